import { Inject, Injectable } from '@nestjs/common';
import { ContextTooLong, ValidationFailed } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { LlmClient } from '../gemini/llm-client.js';
import type { LlmRequest } from '../gemini/llm-client.js';
import { deletedNoteOf } from '../files/turn-media.js';
import { mediaTokens } from '../gemini/media-tokens.js';
import type { ByModality } from '../core/token-usage.js';
import type { MessageAttachment, TurnHistory } from '../messages/message.js';
import { ModelCatalog } from '../models/model-catalog.js';
import type { Session } from '../sessions/session.js';
import { planContext } from './context-window.js';
import type { ContextPlan } from './context-window.js';

export const NO_HISTORY: TurnHistory = Object.freeze({ messages: [], lastTurn: null });

/** What a user sends in a turn: text, files, or both. */
export interface TurnInput {
  message: string;
  attachments: readonly MessageAttachment[];
}

/**
 * What files weigh in a prompt to `model`, in tokens, by modality: by Gemini's rules for each
 * (image size, PDF pages, seconds of sound or video: media-tokens.ts), never by their bytes —
 * except a text file, which is text: at most a token a byte, as every text bound here. A file
 * deleted since goes as a one-line note (TurnMedia), and weighs that.
 */
export function weightsOf(model: string, attachments: readonly MessageAttachment[]): ByModality {
  const weights: ByModality = { text: 0, image: 0, audio: 0, video: 0, document: 0 };
  for (const a of attachments) {
    if (a.deleted) weights.text += Buffer.byteLength(deletedNoteOf(a)) + TOKENS_PER_FILE;
    else if (a.modality === 'text') weights.text += a.bytes + TOKENS_PER_FILE;
    else weights[a.modality] += mediaTokens(model, a.modality, factsOf(a), a.bytes);
  }
  return weights;
}

/** What files weigh in all, in tokens (weightsOf). */
export function weightOf(model: string, attachments: readonly MessageAttachment[]): number {
  if (attachments.length === 0) return 0;
  const weights = weightsOf(model, attachments);
  return weights.text + weights.image + weights.audio + weights.video + weights.document;
}

function factsOf(a: MessageAttachment) {
  return { width: a.width, height: a.height, pages: a.pages, seconds: a.durationMs === null ? null : a.durationMs / 1000 };
}

/** Room for what wraps a file's part in the prompt. */
const TOKENS_PER_FILE = 4;

/** A planned prompt and the request that carries it. */
export interface PlannedRequest {
  plan: ContextPlan;
  request: LlmRequest;
  /** The limit the plan was made for; null: none known. */
  limit: number | null;
}

/**
 * What a turn on a session sends to Gemini: the context limit in force, the stored turns that
 * fit it (context-window.ts), counted with Gemini's countTokens when a bound does not settle it.
 * The turn and the estimate of the next turn plan alike.
 */
@Injectable()
export class ContextPlanner {
  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly models: ModelCatalog,
    private readonly llm: LlmClient,
  ) {}

  /** MAX_MESSAGE_CHARS is configuration, so this part of validation cannot live in the DTO. */
  checkLength(message: string): void {
    let length = 0;
    for (const _ of message) length += 1; // code points, as a person counts characters
    if (length > this.config.maxMessageChars) {
      throw new ValidationFailed(`message: must be at most ${this.config.maxMessageChars} characters, got ${length}`);
    }
  }

  /** The next turn's request. `exact`: counted even when a bound shows it fits. `limit`: a tighter limit than the session's. */
  async plan(
    session: Session,
    history: TurnHistory,
    { message, attachments }: TurnInput,
    options: { exact?: boolean; limit?: number } = {},
  ): Promise<PlannedRequest> {
    const own = this.models.contextLimit(session.model, session.maxContextTokens);
    const limit = options.limit === undefined ? own : Math.min(options.limit, own ?? options.limit);
    const plan = await planContext(
      {
        history,
        systemInstruction: session.systemInstruction,
        message,
        attachments,
        weigh: (files) => weightOf(session.model, files),
        limit,
        truncation: session.truncation,
        exact: options.exact,
      },
      (systemInstruction, contents) => this.llm.countTokens({ model: session.model, systemInstruction, contents }),
    );
    const request: LlmRequest = { model: session.model, contents: plan.contents, systemInstruction: session.systemInstruction };
    // What the files sent weigh, by modality: what a budget reserves and a cut-off call is billed at.
    if (plan.mediaTokens > 0) request.mediaTokens = weightsOf(session.model, plan.attachments.flat());
    return { plan, request, limit };
  }

  /**
   * After Gemini refused `sent` as over the limit it names: the same turn planned again, counted,
   * to fit that limit — less what Gemini counted beyond our own count of the prompt, if it did.
   * A session that does not truncate gets the refusal (422).
   */
  async refit(
    session: Session,
    history: TurnHistory,
    turn: TurnInput,
    sent: PlannedRequest,
    refusal: ContextTooLong,
  ): Promise<PlannedRequest> {
    if (session.truncation === 'disabled') throw new ContextTooLong(refusal.promptTokens, refusal.limit, 'disabled');
    const counted = sent.plan.promptTokens;
    const uncounted = counted !== null && refusal.promptTokens !== null ? Math.max(0, refusal.promptTokens - counted) : 0;
    return this.plan(session, history, turn, { exact: true, limit: Math.max(1, refusal.limit - uncounted) });
  }
}
