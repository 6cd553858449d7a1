import type { CostStatus } from '../core/cost-status.js';
import type { Modality } from '../core/modality.js';
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
  /** User rows: the files the message carried, in order (empty when none). */
  attachments: readonly MessageAttachment[];
}

/**
 * A file a user message carried, as it was when sent: the message reads the same after the file
 * is deleted (`deleted`, read from the files still there). What its bytes said about its token
 * weight is kept with it, so a turn weighs its history's files without reading them.
 */
export interface MessageAttachment {
  fileId: string;
  /** The file's owner: the session's owner. */
  userId: string;
  name: string;
  mimeType: string;
  modality: Modality;
  bytes: number;
  sha256: string;
  /** When the file was uploaded. */
  createdAt: string;
  width: number | null;
  height: number | null;
  pages: number | null;
  durationMs: number | null;
  /** The file was deleted since: later turns send a note in its place. */
  deleted: boolean;
}

/** The stored form of a message's attachments (`chat_history.attachments`): JSON, null when none. */
export function attachmentsToColumn(attachments: readonly MessageAttachment[]): string | null {
  if (attachments.length === 0) return null;
  return JSON.stringify(attachments.map(({ deleted: _deleted, ...kept }) => kept));
}

export function attachmentsFromColumn(column: string | null | undefined): readonly MessageAttachment[] {
  if (!column) return NO_ATTACHMENTS;
  return (JSON.parse(column) as Omit<MessageAttachment, 'deleted'>[]).map((attachment) => ({ ...attachment, deleted: false }));
}

export const NO_ATTACHMENTS: readonly MessageAttachment[] = Object.freeze([]);

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
  attachments: readonly MessageAttachment[];
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
  attachments: readonly MessageAttachment[];
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
