import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '../access/caller.js';
import { SessionNotFound } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { ConversationCache } from '../messages/conversation-cache.js';
import { PricingService } from '../pricing/pricing.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ContextPlanner } from './context-planner.js';

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

/**
 * Estimating a message: the prompt the next turn would send — planned as the turn plans it,
 * truncation included — counted with Gemini's countTokens (free) and priced at the session
 * model's rates. Nothing is generated, stored, budgeted or rate-limited as a turn.
 */
@Injectable()
export class EstimateService {
  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly sessions: SessionsService,
    private readonly conversations: ConversationCache,
    private readonly contexts: ContextPlanner,
    private readonly pricing: PricingService,
  ) {}

  async estimate(caller: Caller, sessionId: string, message: string): Promise<TurnEstimate> {
    this.contexts.checkLength(message);
    const session = await this.sessions.getFor(caller, sessionId);
    const history = await this.conversations.contextOf(session.id, session.totals.messageCount);
    if (!history) throw new SessionNotFound(sessionId);
    const { plan, limit } = await this.contexts.plan(session, history, message, { exact: true });
    const promptTokens = plan.promptTokens!;
    const cost = this.pricing.promptCost(session.model, promptTokens, this.config.gemini.maxOutputTokens);
    return {
      sessionId: session.id,
      promptTokens,
      contextLimit: limit,
      truncated: plan.context.truncated,
      messagesInContext: plan.context.messages,
      inputNanoUsd: cost?.inputNanoUsd ?? null,
      maxNanoUsd: cost?.maxNanoUsd ?? null,
    };
  }
}
