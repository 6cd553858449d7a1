import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { ValidationFailed } from '../common/errors.js';
import { KeyedSerializer } from '../common/keyed-serializer.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { LlmClient } from '../gemini/llm-client.js';
import type { LlmRequest, LlmResult } from '../gemini/llm-client.js';
import type { ChatMessageEntity } from '../messages/chat-message.entity.js';
import { MessagesService } from '../messages/messages.service.js';
import type { SessionStats } from '../messages/messages.service.js';
import { normaliseModel, PricingService } from '../pricing/pricing.service.js';
import type { Cost } from '../pricing/pricing.service.js';
import type { ChatSessionEntity } from '../sessions/chat-session.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { BudgetService } from '../limits/budget.service.js';
import { RateLimiter } from '../limits/rate-limiter.js';

export interface TurnOutcome {
  session: ChatSessionEntity;
  userRow: ChatMessageEntity;
  modelRow: ChatMessageEntity;
  result: LlmResult;
  cost: Cost;
  stats: SessionStats;
  upstreamMs: number;
}

/**
 * One exchange with Gemini: context rebuilt from the database, the call made with no
 * transaction open, then both rows stored in one transaction — or nothing at all.
 */
@Injectable()
export class TurnService {
  private readonly logger = new Logger(TurnService.name);
  /** Turns of one session run one at a time, in arrival order, each seeing the ones before. */
  private readonly perSession = new KeyedSerializer();
  /** Turns started and not yet settled, streamed ones whose client left included. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly sessions: SessionsService,
    private readonly messages: MessagesService,
    private readonly llm: LlmClient,
    private readonly pricing: PricingService,
    private readonly transactions: TransactionRunner,
    private readonly rateLimiter: RateLimiter,
    private readonly budget: BudgetService,
  ) {}

  /** Counts a turn against the caller's RATE_LIMIT_PER_MINUTE, or refuses it (429). */
  admitRate(scope: string): void {
    this.rateLimiter.take(scope);
  }

  /**
   * A turn in a stored session. `load` runs once the session's earlier turns are done, so the
   * turn sees their rows and any PATCH made meanwhile, and a session deleted meanwhile is a 404.
   */
  inSession(
    sessionId: string,
    load: () => Promise<ChatSessionEntity>,
    message: string,
    onDelta?: (text: string) => void,
  ): Promise<TurnOutcome> {
    return this.track(this.perSession.run(sessionId, async () => this.run(await load(), message, false, onDelta)));
  }

  /** The first turn of a session that is stored only if the turn succeeds. */
  inNewSession(session: ChatSessionEntity, message: string, onDelta?: (text: string) => void): Promise<TurnOutcome> {
    return this.track(this.perSession.run(session.chatId, () => this.run(session, message, true, onDelta)));
  }

  /** Waits for the turns in flight to settle, at most `timeoutMs`; says whether they all did. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const settled = Promise.allSettled([...this.inFlight]).then(() => true as const);
    const all = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    return all;
  }

  private track<T>(turn: Promise<T>): Promise<T> {
    this.inFlight.add(turn);
    const forget = () => this.inFlight.delete(turn);
    turn.then(forget, forget);
    return turn;
  }

  private async run(
    session: ChatSessionEntity,
    message: string,
    isNew: boolean,
    onDelta?: (text: string) => void,
  ): Promise<TurnOutcome> {
    const receivedAt = new Date();
    const history = isNew ? [] : await this.messages.listForSession(session.chatId);
    const request: LlmRequest = {
      model: session.model,
      contents: [...history.map((row) => ({ role: row.role, text: row.content })), { role: 'user', text: message }],
      systemInstruction: session.systemInstruction,
    };
    const promptChars = [request.systemInstruction ?? '', ...request.contents.map((turn) => turn.text)].reduce(
      (sum, text) => sum + text.length,
      0,
    );
    // Refused (429) before any upstream call when the owner's daily limit is spent.
    const release = await this.budget.admit(session.userId, session.model, promptChars);
    try {
      return await this.callAndStore(session, message, isNew, history.length, request, receivedAt, onDelta);
    } finally {
      release();
    }
  }

  private async callAndStore(
    session: ChatSessionEntity,
    message: string,
    isNew: boolean,
    historyLength: number,
    request: LlmRequest,
    receivedAt: Date,
    onDelta?: (text: string) => void,
  ): Promise<TurnOutcome> {
    const started = performance.now();
    const result = onDelta ? await this.llm.stream(request, onDelta) : await this.llm.generate(request);
    const upstreamMs = performance.now() - started;
    const cost = this.pricing.cost(result.modelVersion, session.model, result.usage);
    if (cost.costStatus === 'unpriced') {
      this.logger.warn(`no price for model ${result.modelVersion ?? session.model}: turn stored as unpriced`);
    }
    const answeredAt = new Date();
    // Untitled sessions are named after their first message, with no extra model call.
    const title = session.title ?? (historyLength === 0 ? titleFrom(message) : null);
    const [userRow, modelRow] = await this.transactions.run(async (manager) => {
      if (isNew) await this.sessions.insert({ ...session, title }, manager);
      else await this.sessions.recordTurn(session.chatId, { updatedAt: answeredAt, title }, manager);
      return this.messages.appendTurn(manager, {
        chatId: session.chatId,
        userMessage: message,
        receivedAt,
        reply: result.text,
        answeredAt,
        model: result.modelVersion ? normaliseModel(result.modelVersion) : session.model,
        usage: result.usage,
        costNanoUsd: cost.costNanoUsd,
        costStatus: cost.costStatus,
        finishReason: result.finishReason,
        latencyMs: Math.round(upstreamMs),
      });
    });
    Object.assign(session, { updatedAt: answeredAt, title });
    const stats = await this.messages.statsForOne(session.chatId);
    return { session, userRow, modelRow, result, cost, stats, upstreamMs };
  }

  /** MAX_MESSAGE_CHARS is configuration, so this part of validation cannot live in the DTO. */
  checkMessage(message: string): void {
    let length = 0;
    for (const _ of message) length += 1; // code points, as a person counts characters
    if (length > this.config.maxMessageChars) {
      throw new ValidationFailed(`message: must be at most ${this.config.maxMessageChars} characters, got ${length}`);
    }
  }
}

const TITLE_LENGTH = 60;

/** The first message, on one line, cut at a word boundary near 60 characters. */
export function titleFrom(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  if (chars.length <= TITLE_LENGTH) return line;
  const cut = chars.slice(0, TITLE_LENGTH).join('');
  const atWord = cut.replace(/\s+\S*$/, '');
  return `${atWord.length >= TITLE_LENGTH / 2 ? atWord : cut}…`;
}
