import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { callerScope } from '../access/caller.js';
import type { Caller } from '../access/caller.js';
import { SessionNotFound } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { ESTIMATE_RATE_LIMITER, RateLimiter } from '../coordination/rate-limiter.js';
import { ConversationCache } from '../messages/conversation-cache.js';
import { PricingService } from '../pricing/pricing.service.js';
import type { Session } from '../sessions/session.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { TurnMedia } from '../files/turn-media.js';
import { promptUsage } from '../core/token-usage.js';
import type { ByModality } from '../core/token-usage.js';
import { MessagesService } from '../messages/messages.service.js';
import { ContextPlanner } from './context-planner.js';
import type { TurnInput } from './context-planner.js';
import { RecentAnswers } from './estimate-cache.js';

/** What the next turn would send and cost, before it is sent. */
export interface TurnEstimate {
  sessionId: string;
  /** The prompt's tokens, counted by Gemini (countTokens). */
  promptTokens: number;
  contextLimit: number | null;
  truncated: boolean;
  /** Stored messages that would go with the message (it not counted). */
  messagesInContext: number;
  /** Null when the session's model has no price. */
  inputNanoUsd: number | null;
  /** The input, plus the whole output cap (GEMINI_MAX_OUTPUT_TOKENS) at the output rate. */
  maxNanoUsd: number | null;
}

/** The part of an estimate that costs countTokens calls: what is kept for identical estimates. */
type CountedPrompt = Pick<TurnEstimate, 'promptTokens' | 'contextLimit' | 'truncated' | 'messagesInContext'> & {
  /** What the files sent weigh, by modality (part of promptTokens). */
  mediaTokens: Partial<ByModality>;
};

/**
 * Estimating a message: the prompt the next turn would send — planned as the turn plans it,
 * truncation included — counted with Gemini's countTokens (free, but on the service's Gemini
 * quota) and priced at the session model's rates. Nothing is generated, stored or budgeted.
 * Estimates are counted in a per-caller window of their own (ESTIMATES_PER_MINUTE), and an
 * identical estimate of an unchanged session is answered from a short cache (estimate-cache.ts).
 */
@Injectable()
export class EstimateService {
  private readonly counted = new RecentAnswers<CountedPrompt>();

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly sessions: SessionsService,
    private readonly conversations: ConversationCache,
    private readonly contexts: ContextPlanner,
    private readonly pricing: PricingService,
    @Inject(ESTIMATE_RATE_LIMITER) private readonly window: RateLimiter,
    private readonly media: TurnMedia,
    private readonly messages: MessagesService,
  ) {}

  async estimate(caller: Caller, sessionId: string, message: string, fileIds: readonly string[] = []): Promise<TurnEstimate> {
    this.contexts.checkLength(message);
    const session = await this.sessions.getFor(caller, sessionId);
    const scope = callerScope(caller, session.userId);
    // Counted before anything else, answers from the cache too: the window bounds what a caller
    // may ask, the cache what reaches Gemini.
    await this.window.take(scope);
    const turn: TurnInput = { message, attachments: await this.media.attach(session.userId, fileIds) };
    const counted = await this.counted.answer(identityOf(scope, session, message, fileIds), () => this.count(session, turn));
    const { mediaTokens, ...prompt } = counted;
    // Files' shares at their own rates (audio at audio rates), the rest at the input rate.
    const cost = this.pricing.promptCost(session.model, promptUsage(prompt.promptTokens, mediaTokens), this.config.gemini.maxOutputTokens);
    return {
      sessionId: session.id,
      ...prompt,
      inputNanoUsd: cost?.inputNanoUsd ?? null,
      maxNanoUsd: cost?.maxNanoUsd ?? null,
    };
  }

  private async count(session: Session, turn: TurnInput): Promise<CountedPrompt> {
    const stored = await this.conversations.contextOf(session.id, session.totals.messageCount);
    if (!stored) throw new SessionNotFound(session.id);
    // Files deleted since their turn weigh what the note sent in their place does.
    const history = { ...stored, messages: await this.messages.withDeletedFiles(stored.messages) };
    const { plan, limit, request } = await this.contexts.plan(session, history, turn, { exact: true });
    return {
      mediaTokens: request.mediaTokens ?? {},
      promptTokens: plan.promptTokens!,
      contextLimit: limit,
      truncated: plan.context.truncated,
      messagesInContext: plan.context.messages,
    };
  }
}

/**
 * What makes two estimates identical: the caller, the message, and everything of the session the
 * prompt is planned from. A turn stored changes the message count (and updated_at), a PATCH the
 * settings (and updated_at), so an estimate after either is counted again — on any instance,
 * since the session is read afresh for each estimate. Hashed: a key is small whatever the text.
 */
function identityOf(scope: string, session: Session, message: string, fileIds: readonly string[]): string {
  const parts = [
    scope,
    session.id,
    session.updatedAt,
    session.totals.messageCount,
    session.contextTokens,
    session.model,
    session.systemInstruction,
    session.maxContextTokens,
    session.truncation,
    message,
    fileIds,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}
