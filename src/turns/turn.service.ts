import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { callerScope } from '../auth/caller.js';
import type { Releasable } from '../coordination/hold.js';
import { SessionLine } from '../coordination/session-line.js';
import type { Caller } from '../auth/caller.js';
import { ContextTooLong, NotReady, SessionNotFound, UserNotFound } from '../common/errors.js';
import { now } from '../core/clock.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { LlmClient } from '../gemini/llm-client.js';
import type { LlmRequest, LlmResult } from '../gemini/llm-client.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import type { Claim, Replayable } from '../idempotency/idempotency.service.js';
import { BudgetService } from '../budgets/budget.service.js';
import { RateLimiter } from '../coordination/rate-limiter.js';
import type { Message, NewTurn } from '../messages/message.js';
import { ConversationCache } from '../messages/conversation-cache.js';
import { normaliseModel } from '../models/model-catalog.js';
import { PricingService } from '../pricing/pricing.service.js';
import type { Session, SessionTotals } from '../sessions/session.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { UsersRepository } from '../users/users.repository.js';
import { spendOf, storeTurn } from './store-turn.js';
import { NO_HISTORY, ContextPlanner } from './context-planner.js';

/**
 * Where a turn goes. `sessionId` null starts a new session for `ownerId` (the /chat API without
 * a chat_id), stored only if the turn succeeds. `ownerId` given with a session id: it must be
 * that user's session (the /chat API names its user).
 */
export interface TurnTarget {
  sessionId: string | null;
  ownerId?: string;
}

export interface TurnOptions {
  /** The client's Idempotency-Key: the same key and turn get the first result again. */
  idempotencyKey?: string;
  /** Streams the reply: each piece of text as Gemini writes it. */
  onDelta?: (text: string) => void;
}

/** What a turn stored and what the session has cost since. Plain data: replays reuse it as is. */
export interface TurnResult {
  sessionId: string;
  userMessage: Message;
  modelMessage: Message;
  sessionTotals: SessionTotals;
}

/** What one exchange with Gemini works on. */
interface Exchange {
  session: Session;
  /** The owner's own daily limit (null: the configured default), read with the session. */
  ownerDailyBudgetNanoUsd: number | null;
  isNew: boolean;
  /** A new session's owner was a user already when the turn arrived (if deleted meanwhile, it stays deleted). */
  ownerExisted: boolean;
  message: string;
  /** The session's turn lease, released with what the turn stores. */
  lease: Releasable;
  /** The Idempotency-Key's claim, completed with what the turn stores. */
  claim: Claim<TurnResult>;
}

export interface TurnReply extends Replayable<TurnResult> {
  /** Time spent waiting for Gemini; null for a replay. */
  upstreamMs: number | null;
}

/**
 * Sending a message: the one use case behind POST /sessions/:id/messages and POST /chat,
 * streamed or not. Read top to bottom:
 * 1. the message is checked, the session found (404 if it is not the caller's) or drafted;
 * 2. under the Idempotency-Key, if any, the caller's rate limit is taken and the turn waits for
 *    the session's earlier turns (one at a time per session, in arrival order);
 * 3. the context is rebuilt from the stored history, as much of it as fits the context limit
 *    (turn-context.ts), the owner's daily budget reserves the turn's worst case, and Gemini is
 *    called with no transaction open — once more, with a context counted to fit, if Gemini
 *    refuses the prompt as over the model's limit;
 * 4. both messages (and a new session) are stored in one unit of work with usage and cost —
 *    or nothing at all when anything failed.
 */
@Injectable()
export class TurnService {
  private readonly logger = new Logger(TurnService.name);
  /** Turns arrived and not yet settled, streamed ones whose client left included. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private draining = false;

  constructor(
    private readonly sessions: SessionsService,
    private readonly conversations: ConversationCache,
    private readonly llm: LlmClient,
    private readonly pricing: PricingService,
    private readonly idempotency: IdempotencyService,
    private readonly rateLimiter: RateLimiter,
    private readonly budget: BudgetService,
    private readonly unitOfWork: UnitOfWork,
    private readonly sessionTurns: SessionLine,
    private readonly users: UsersRepository,
    private readonly contexts: ContextPlanner,
  ) {}

  send(caller: Caller, target: TurnTarget, message: string, options: TurnOptions = {}): Promise<TurnReply> {
    // Refused before anything is done: this instance is stopping, another one takes the retry.
    if (this.draining) return Promise.reject(new NotReady('draining'));
    return this.track(this.handle(caller, target, message, options));
  }

  private async handle(caller: Caller, target: TurnTarget, message: string, options: TurnOptions): Promise<TurnReply> {
    this.contexts.checkLength(message);
    const isNew = target.sessionId === null;
    const draft = isNew ? this.sessions.draft({ userId: target.ownerId }) : null;
    // The place in the session's line is taken on arrival, before any lookup (whose answers may
    // come back in any order): turns run in the order they came.
    const place = this.sessionTurns.enter(draft?.id ?? target.sessionId!);
    try {
      const { session, ownerDailyBudgetNanoUsd, ownerExisted } = draft
        ? await this.draftWithOwner(draft)
        : { ...(await this.sessions.getWithOwnerFor(caller, target.sessionId!, target.ownerId)), ownerExisted: true };
      const scope = callerScope(caller, session.userId);
      let upstreamMs: number | null = null;
      const reply = await this.idempotency.run<TurnResult>(scope, options.idempotencyKey, { turn: target, message }, async (claim) => {
        await this.rateLimiter.take(scope);
        return place.run(async (lease) => {
          const exchanged = await this.exchange({ session, ownerDailyBudgetNanoUsd, isNew, ownerExisted, message, lease, claim }, options.onDelta);
          upstreamMs = exchanged.upstreamMs;
          return exchanged.result;
        });
      });
      return { ...reply, upstreamMs };
    } finally {
      place.leave();
    }
  }

  /** A new chat's owner may be a user already, with a limit of their own. */
  private async draftWithOwner(session: Session): Promise<Omit<Exchange, 'isNew' | 'message' | 'lease' | 'claim'>> {
    const owner = await this.users.findById(session.userId);
    return { session, ownerDailyBudgetNanoUsd: owner?.dailyBudgetNanoUsd ?? null, ownerExisted: owner !== null };
  }

  /**
   * Stops taking turns and waits, at most `timeoutMs`, for those in flight — from the moment
   * they arrived — to settle; says whether they all did. A turn still waiting for its session's
   * earlier turns when draining starts is refused (503 NOT_READY) rather than started.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
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

  /** One exchange with Gemini and what it stores; runs when the session's earlier turns are done. */
  private async exchange(
    exchange: Exchange,
    onDelta?: (text: string) => void,
  ): Promise<{ result: TurnResult; upstreamMs: number }> {
    const { session, ownerDailyBudgetNanoUsd, isNew, message } = exchange;
    const receivedAt = now();
    const history = isNew ? NO_HISTORY : await this.conversations.contextOf(session.id, session.totals.messageCount);
    // Deleted since it was looked up: nothing is sent, nothing is spent.
    if (!history) throw new SessionNotFound(session.id);
    // Over the limit with truncation disabled: refused (422) before anything is reserved or sent.
    let planned = await this.contexts.plan(session, history, message);
    if (this.draining) throw new NotReady('draining'); // nothing started yet: a retry goes elsewhere
    // Refused (429) before any upstream call when the owner's daily limit is spent.
    const reservation = await this.budget.admit(session.userId, ownerDailyBudgetNanoUsd, session.model, promptChars(planned.request));
    try {
      const started = performance.now();
      let answer: LlmResult;
      try {
        answer = await this.call(planned.request, onDelta);
      } catch (error) {
        // Gemini's own limit (it refuses before generating anything): one more call, counted to fit it.
        if (!(error instanceof ContextTooLong)) throw error;
        planned = await this.contexts.refit(session, history, message, planned, error);
        answer = await this.call(planned.request, onDelta);
      }
      const upstreamMs = performance.now() - started;
      const answeredAt = now();
      // Priced at the rates of the day it was answered, the day its rows say.
      const cost = this.pricing.cost(answer.modelVersion, session.model, answer.usage, new Date(answeredAt));
      if (cost.costStatus !== 'priced') {
        this.logger.warn(
          !answer.usage
            ? 'Gemini reported usage that is not valid token counts: turn stored as unpriced, without counts'
            : cost.costStatus === 'estimated'
              ? `no price for model ${answer.modelVersion}, which answered for ${session.model}: turn priced at ${cost.pricedAs}'s rates (estimated)`
              : `no price for model ${answer.modelVersion ?? session.model}: turn stored as unpriced`,
        );
      }
      // Untitled sessions are named after their first message, with no extra model call.
      const title = history.messages.length === 0 ? titleFrom(message) : null;
      const turn: NewTurn = {
        sessionId: session.id,
        userMessage: message,
        receivedAt,
        reply: answer.text,
        answeredAt,
        model: answer.modelVersion ? normaliseModel(answer.modelVersion) : session.model,
        usage: answer.usage,
        costNanoUsd: cost.costNanoUsd,
        costStatus: cost.costStatus,
        pricedAs: cost.pricedAs,
        context: planned.plan.context,
        finishReason: answer.finishReason,
        latencyMs: Math.round(upstreamMs),
      };
      const result = await this.store(exchange, reservation, turn, title);
      if (!result) throw isNew ? new UserNotFound(session.userId) : new SessionNotFound(session.id);
      return { result, upstreamMs };
    } finally {
      // A failure here must not fail a turn that is stored (and paid): the reservation expires.
      await reservation.release().catch((error: unknown) => this.logger.warn(`could not release a budget reservation (it expires): ${String(error)}`));
    }
  }

  /**
   * One unit of work: the lease and the reservation released, the turn stored, the
   * Idempotency-Key's outcome written. Null when the session was deleted while Gemini answered.
   * If it fails, the paid turn's spend is recorded on its own all the same.
   */
  private async store(
    { session, isNew, ownerExisted, lease, claim }: Exchange,
    reservation: Releasable,
    turn: NewTurn,
    title: string | null,
  ): Promise<TurnResult | null> {
    const turnId = randomUUID();
    try {
      return await this.unitOfWork.run(async (repositories) => {
        // The next turn of the session, and the next budget check, see this one stored.
        await lease.releaseWith(repositories);
        await reservation.releaseWith(repositories);
        const stored = await storeTurn(repositories, session, turn, { turnId, isNew, ownerExisted, title });
        // Deleted while Gemini answered (the session, or a new session's owner): a delete wins;
        // what was spent is recorded, nothing of the conversation comes back.
        if (!stored) return null;
        const result: TurnResult = { sessionId: session.id, ...stored };
        await claim.completeWith(repositories, result, { userId: session.userId, sessionId: session.id });
        return result;
      });
    } catch (error) {
      await this.unitOfWork
        .run(({ usage }) => usage.recordOnce(spendOf(turnId, session, turn)))
        .catch((ledgerError: unknown) => this.logger.error(`turn ${turnId}: its spend could not be recorded: ${String(ledgerError)}`));
      throw error;
    }
  }

  private call(request: LlmRequest, onDelta?: (text: string) => void): Promise<LlmResult> {
    return onDelta ? this.llm.stream(request, onDelta) : this.llm.generate(request);
  }
}

function promptChars(request: LlmRequest): number {
  return request.contents.reduce((sum, turn) => sum + turn.text.length, request.systemInstruction?.length ?? 0);
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
