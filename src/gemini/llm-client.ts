import type { DomainError } from '../common/errors.js';
import { promptUsage } from '../core/token-usage.js';
import type { ByModality, TokenUsage } from '../core/token-usage.js';

/**
 * A file in a turn, as Gemini gets it: its bytes inline, or the URI of its copy in Gemini's
 * Files API (uploaded with `LlmClient.uploadFile`), or — for a file deleted since — a one-line
 * note in its place.
 */
export type LlmMedia =
  { kind: 'inline'; mimeType: string; data: Buffer } | { kind: 'uri'; mimeType: string; uri: string } | { kind: 'note'; text: string };

export interface LlmTurn {
  role: 'user' | 'model';
  text: string;
  /** The turn's files, sent before its text (a user turn's attachments). */
  media?: readonly LlmMedia[];
}

/** A file uploaded to Gemini's Files API: `name` (`files/…`) deletes it, `uri` names it in a turn until `expiresAt`. */
export interface UploadedFile {
  name: string;
  uri: string;
  mimeType: string;
  /** ISO time; Gemini deletes its files 48 h after upload. */
  expiresAt: string;
}

export interface LlmRequest {
  model: string;
  /** The whole conversation, oldest first, ending with the new user message. */
  contents: LlmTurn[];
  systemInstruction: string | null;
  /**
   * What the contents' files weigh in tokens, by modality, by Gemini's rules (set by the turn
   * that planned them): a bound, not a count — what a budget reserves, and what a call cut off
   * before Gemini reported its usage is billed at, audio at audio rates.
   */
  mediaTokens?: Readonly<ByModality>;
}

/**
 * The characters of a request's text — turns, notes in place of deleted files, the system
 * instruction: a bound on its text tokens (a token is rarely shorter than a character). Files
 * sent as bytes or URIs are not text and not counted here.
 */
export function promptCharsOf(request: LlmRequest): number {
  const notes = (turn: LlmTurn) => (turn.media ?? []).reduce((sum, media) => sum + (media.kind === 'note' ? media.text.length : 0), 0);
  return request.contents.reduce((sum, turn) => sum + turn.text.length + notes(turn), request.systemInstruction?.length ?? 0);
}

/**
 * A bound on a request's prompt, as usage: its characters (a token is rarely shorter than a
 * character; notes for deleted files included) plus what its files weigh, each modality's share
 * kept so that it is priced at its own rates.
 */
export function promptUsageOf(request: LlmRequest): TokenUsage {
  const media = request.mediaTokens;
  const chars = promptCharsOf(request);
  if (!media) return promptUsage(chars);
  return promptUsage(chars + media.text + media.image + media.audio + media.video + media.document, media);
}

/** The Files API URIs a request names (its `uri` media), once each. */
export function fileUrisOf(request: LlmRequest): string[] {
  return [...new Set(request.contents.flatMap((turn) => (turn.media ?? []).flatMap((media) => (media.kind === 'uri' ? [media.uri] : []))))];
}

/**
 * A call Gemini ran, and so billed: its reply, or — when it ended badly after Gemini reported
 * usage — what it reported and why it gives no reply to store (`failure`).
 */
export interface LlmResult {
  text: string;
  /**
   * What Gemini reported (the last report of a stream). Null when its usageMetadata was not made
   * of non-negative safe integers, or when it never said (a reply cut off for size: see
   * `complete`).
   */
  usage: TokenUsage | null;
  finishReason: string | null;
  /** The model that answered, as Gemini names it (`modelVersion`), when it says and the name is a plausible model id. */
  modelVersion: string | null;
  /** Gemini named the answering model with something that is not a model id: priced at the requested model's rates, marked estimated. */
  modelVersionRejected: boolean;
  /** Null when Gemini answered; else the error the client gets (CONTENT_BLOCKED, UPSTREAM_ERROR, UPSTREAM_TIMEOUT), after the call's spend is recorded. */
  failure: DomainError | null;
  /** False when the call ended before its last chunk (a stream broke or timed out, a reply was cut off): `usage` is the last reported, not the final one. */
  complete: boolean;
}

export type LlmMode = 'emulator' | 'configured';

/** The finish reason of a call its caller cancelled (not one of Gemini's). */
export const CANCELLED = 'CANCELLED';

export interface LlmCallOptions {
  /**
   * Cancels the call: the upstream request is aborted and the call resolves — never rejects —
   * with what arrived so far, `finishReason: 'CANCELLED'`, and the last usage Gemini reported
   * (or an estimate, `complete: false`, when none came: Gemini bills aborted calls too).
   */
  signal?: AbortSignal;
}

/**
 * The port feature code talks to. A call Gemini billed — it reported usage, or ran its reply
 * past the size bound — resolves, its failure in `failure`, so its spend can be recorded.
 * Calls that cost nothing reject, with DomainErrors only: UpstreamRateLimited, UpstreamTimeout,
 * UpstreamError, ContentBlocked, and ContextTooLong (`reason: 'gemini'`) when Gemini refused a
 * prompt over the model's input limit.
 */
export abstract class LlmClient {
  abstract readonly mode: LlmMode;
  abstract generate(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResult>;
  /**
   * Streams the reply: `onDelta` gets each piece of answer text as it arrives; the result is
   * the whole reply with the usage of the last chunk that carried usage (or, when the stream
   * broke after such a chunk, that usage and the failure).
   */
  abstract stream(request: LlmRequest, onDelta: (text: string) => void, options?: LlmCallOptions): Promise<LlmResult>;
  /** The prompt tokens of the request, as Gemini counts them (countTokens: free, nothing generated). */
  abstract countTokens(request: LlmRequest): Promise<number>;
  /** Uploads bytes to Gemini's Files API (free), waiting until the file is ACTIVE. */
  abstract uploadFile(file: { data: Buffer; mimeType: string; displayName: string }): Promise<UploadedFile>;
  /** Deletes an uploaded file at Gemini; a file Gemini no longer has is not an error. */
  abstract deleteFile(name: string): Promise<void>;
}

/** Deletes uploaded files at Gemini, in the background: a failure is logged (Gemini deletes them within 48 h anyway). */
export function deleteAtGemini(llm: LlmClient, logger: { warn(message: string): void }, names: readonly string[]): void {
  for (const name of names) {
    llm.deleteFile(name).catch((error: unknown) => logger.warn(`could not delete ${name} at Gemini: ${String(error)}`));
  }
}
