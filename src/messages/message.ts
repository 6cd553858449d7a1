import type { CostStatus } from '../core/cost-status.js';
import type { TokenUsage } from '../core/token-usage.js';

export type MessageRole = 'user' | 'model';

/** A stored message. Plain data: it travels as JSON (idempotent replays) unchanged. */
export interface Message {
  id: number;
  sessionId: string;
  role: MessageRole;
  content: string;
  createdAt: string;
  /** Model rows only (null on user rows): the model that answered, its usage and cost. */
  model: string | null;
  finishReason: string | null;
  usage: TokenUsage | null;
  /** Integer nano-dollars; null when unpriced (never a made-up 0). */
  costNanoUsd: number | null;
  costStatus: CostStatus | null;
  /** Model rows: the table entry whose rates priced the turn (null when unpriced). */
  pricedAs: string | null;
  /** Model rows: what the model saw besides the turn's own message. */
  context: MessageContext | null;
  latencyMs: number | null;
}

/** The earlier messages sent as context with a turn's message. */
export interface MessageContext {
  /** How many (the turn's own user message not counted). */
  messages: number;
  /** The first of them; null when there were none. */
  firstMessageId: number | null;
  /** Whether older messages were left out to fit the context limit. */
  truncated: boolean;
}

/** Both rows of a turn, as the turn stores them. */
export interface NewTurn {
  sessionId: string;
  userMessage: string;
  receivedAt: string;
  reply: string;
  answeredAt: string;
  model: string;
  /** Null when Gemini's usage was not valid counts: stored as unknown (null), never as numbers. */
  usage: TokenUsage | null;
  costNanoUsd: number | null;
  costStatus: CostStatus;
  pricedAs: string | null;
  context: MessageContext;
  finishReason: string | null;
  latencyMs: number;
}

/** One earlier message as the next turn's context needs it. */
export interface ContextMessage {
  id: number;
  role: MessageRole;
  content: string;
}

/** What a stored turn weighed, as Gemini counted it, and what its context was. */
export interface TurnWeight {
  /** Its prompt tokens plus its reply's: the context as of that turn, the turn included. Null when Gemini's counts were not valid. */
  tokens: number | null;
  context: MessageContext | null;
}

/** A session's stored conversation as the next turn builds on it. */
export interface TurnHistory {
  messages: readonly ContextMessage[];
  /** The newest turn's weight; null when there is none. */
  lastTurn: TurnWeight | null;
}

/**
 * What the next turn starts from, from the last turn's counts: its prompt plus its reply. Null when
 * they are not known — a row stored without valid counts reads as zeros, and a real prompt is
 * never 0 tokens.
 */
export function contextTokensOf(promptTokens: number | null | undefined, outputTokens: number | null | undefined): number | null {
  if (!promptTokens || outputTokens === null || outputTokens === undefined) return null;
  return promptTokens + outputTokens;
}

/** The weight of the turn a model message ended. */
export function weightOf(message: Message): TurnWeight {
  return { tokens: contextTokensOf(message.usage?.promptTokens, message.usage?.outputTokens), context: message.context };
}
