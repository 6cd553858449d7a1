import type { CostStatus } from '../pricing/pricing.service.js';
import type { TokenUsage } from '../pricing/token-usage.js';

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
  latencyMs: number | null;
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
  finishReason: string | null;
  latencyMs: number;
}

/** One earlier message as the next turn's context needs it. */
export interface ContextMessage {
  role: MessageRole;
  content: string;
}
