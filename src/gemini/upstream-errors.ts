import { ApiError } from '@google/genai';
import {
  ContextTooLong,
  DomainError,
  UpstreamError,
  UpstreamFileUnavailable,
  UpstreamRateLimited,
  UpstreamTimeout,
} from '../common/errors.js';
import { replyTooLargeError, replyTooLargeIn } from './upstream-reply.js';

const DEFAULT_RETRY_AFTER_SECONDS = 30;
/** The longest wait passed on to a client: a hint of days from upstream is not one to follow. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * ApiError.message is the upstream JSON body stringified, double-encoded for stream errors
 * (js-genai #728). It is parsed only to find RetryInfo; its text never reaches a client.
 */
export function retryInfoSeconds(message: string): number | null {
  const match = /retryDelay\\*"\s*:\s*\\*"(\d+(?:\.\d+)?)s/.exec(message);
  return match ? Number(match[1]) : null;
}

export function retryAfterFrom(message: string): number {
  const seconds = retryInfoSeconds(message);
  return seconds === null ? DEFAULT_RETRY_AFTER_SECONDS : Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));
}

/**
 * Gemini's refusal of a prompt over the model's input limit: 400 INVALID_ARGUMENT, "The input
 * token count (N) exceeds the maximum number of tokens allowed (M)." Only the two numbers are
 * taken from the body; its text never reaches a client.
 */
export function tokenLimitOf(message: string): { promptTokens: number | null; limit: number } | null {
  const match = /input token count\s*\(?(\d+)?\)?\s*exceeds the maximum number of tokens allowed\s*\(?(\d+)\)?/i.exec(message);
  if (!match) return null;
  return { promptTokens: match[1] === undefined ? null : Number(match[1]), limit: Number(match[2]) };
}

export interface UpstreamCallContext {
  model: string;
  timeoutMs: number;
  /** True when our own deadline fired: the abort is a timeout, not a failure. */
  timedOut: boolean;
  /** The Files API URIs the request named (`fileData` parts): a 403 about a file names one of them. */
  fileUris?: readonly string[];
}

/**
 * Gemini's 403 for a request naming a file it no longer has (deleted, or 48 h after upload):
 * PERMISSION_DENIED, "You do not have permission to access the File <id> or it may not exist."
 * The URIs of the request that name that file (all of them when the id cannot be read), or null
 * when the 403 is not about a file (a refused key is a 403 too).
 */
export function unavailableFilesOf(message: string, fileUris: readonly string[]): string[] | null {
  if (fileUris.length === 0 || !/PERMISSION_DENIED/.test(message) || !/access the File/i.test(message)) return null;
  const id = /access the File ([A-Za-z0-9_-]+)/i.exec(message)?.[1];
  const named = id === undefined ? [] : fileUris.filter((uri) => uri.split('?')[0].endsWith(`files/${id}`));
  return named.length > 0 ? named : [...fileUris];
}

/** Maps whatever the SDK threw to the domain error a client sees. */
export function toDomainError(error: unknown, context: UpstreamCallContext): DomainError {
  if (error instanceof DomainError) return error;
  const tooLarge = replyTooLargeIn(error);
  if (tooLarge) return replyTooLargeError(tooLarge.limitBytes);
  const { name, message } = describeThrown(error);
  if (context.timedOut || name === 'AbortError') {
    return new UpstreamTimeout(`Gemini did not answer within ${context.timeoutMs} ms.`);
  }
  if (error instanceof ApiError) {
    const status = error.status;
    if (status === 429) return new UpstreamRateLimited(retryAfterFrom(error.message));
    if (status === 404) {
      return new UpstreamError(
        `Gemini does not serve the model "${context.model}" (retired or unknown). ` +
          'Use another model for this session, or set GEMINI_MODEL for new sessions.',
      );
    }
    const unavailable = status === 403 ? unavailableFilesOf(error.message, context.fileUris ?? []) : null;
    if (unavailable) return new UpstreamFileUnavailable(unavailable);
    if (status === 401 || status === 403) {
      return new UpstreamError('Gemini refused the credentials of this service (check GEMINI_API_KEY).');
    }
    if (status === 504) return new UpstreamTimeout('Gemini timed out while answering.');
    const overLimit = status === 400 ? tokenLimitOf(error.message) : null;
    if (overLimit) return new ContextTooLong(overLimit.promptTokens, overLimit.limit, 'gemini');
    if (status >= 500) return new UpstreamError(`Gemini failed to answer (HTTP ${status}).`);
    return new UpstreamError(`Gemini rejected the request (HTTP ${status}).`);
  }
  // Node's fetch reports network failures as "TypeError: fetch failed"; SDK 2.32 wraps that in
  // a plain Error ("exception TypeError: fetch failed sending request") with the original as cause.
  if (/fetch failed/i.test(message) || (name === 'TypeError' && /network|socket|ECONN/i.test(message))) {
    return new UpstreamError('Gemini could not be reached.');
  }
  // Everything else the SDK throws while reading a reply is a broken or malformed answer
  // (SyntaxError, "Incomplete JSON segment", a stream that stopped).
  return new UpstreamError('Gemini sent a malformed or incomplete reply.');
}

/** By name, not instanceof: undici's DOMException and errors from other realms fail instanceof Error. */
function describeThrown(error: unknown): { name: string; message: string } {
  if (typeof error !== 'object' || error === null) return { name: typeof error, message: String(error) };
  const { name, message } = error as { name?: unknown; message?: unknown };
  return { name: typeof name === 'string' ? name : '', message: typeof message === 'string' ? message : '' };
}
