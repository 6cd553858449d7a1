import { HttpStatus } from '@nestjs/common';

/** Every error code a client can see. Adding one without a status below is a compile error. */
export enum ErrorCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  UNAUTHORIZED = 'UNAUTHORIZED',
  FORBIDDEN = 'FORBIDDEN',
  KEY_NOT_FOUND = 'KEY_NOT_FOUND',
  USER_NOT_FOUND = 'USER_NOT_FOUND',
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  CHAT_NOT_FOUND = 'CHAT_NOT_FOUND',
  FILE_NOT_FOUND = 'FILE_NOT_FOUND',
  TURN_NOT_FOUND = 'TURN_NOT_FOUND',
  TURN_NOT_RESUMABLE = 'TURN_NOT_RESUMABLE',
  TURN_FINISHED = 'TURN_FINISHED',
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  USER_EXISTS = 'USER_EXISTS',
  IDEMPOTENCY_IN_PROGRESS = 'IDEMPOTENCY_IN_PROGRESS',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  RATE_LIMITED = 'RATE_LIMITED',
  BUDGET_EXCEEDED = 'BUDGET_EXCEEDED',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  STORAGE_QUOTA_EXCEEDED = 'STORAGE_QUOTA_EXCEEDED',
  REQUEST_TIMEOUT = 'REQUEST_TIMEOUT',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  CONTENT_BLOCKED = 'CONTENT_BLOCKED',
  MODEL_UNPRICED = 'MODEL_UNPRICED',
  CONTEXT_TOO_LONG = 'CONTEXT_TOO_LONG',
  UPSTREAM_RATE_LIMITED = 'UPSTREAM_RATE_LIMITED',
  UPSTREAM_ERROR = 'UPSTREAM_ERROR',
  UPSTREAM_TIMEOUT = 'UPSTREAM_TIMEOUT',
  NOT_READY = 'NOT_READY',
  INTERNAL = 'INTERNAL',
  HOST_NOT_ALLOWED = 'HOST_NOT_ALLOWED',
}

export function statusFor(code: ErrorCode): HttpStatus {
  switch (code) {
    case ErrorCode.VALIDATION_FAILED:
      return HttpStatus.BAD_REQUEST;
    case ErrorCode.UNAUTHORIZED:
      return HttpStatus.UNAUTHORIZED;
    case ErrorCode.FORBIDDEN:
    case ErrorCode.HOST_NOT_ALLOWED:
      return HttpStatus.FORBIDDEN;
    case ErrorCode.KEY_NOT_FOUND:
    case ErrorCode.USER_NOT_FOUND:
    case ErrorCode.SESSION_NOT_FOUND:
    case ErrorCode.CHAT_NOT_FOUND:
    case ErrorCode.FILE_NOT_FOUND:
    case ErrorCode.TURN_NOT_FOUND:
    case ErrorCode.ROUTE_NOT_FOUND:
      return HttpStatus.NOT_FOUND;
    case ErrorCode.METHOD_NOT_ALLOWED:
      return HttpStatus.METHOD_NOT_ALLOWED;
    case ErrorCode.USER_EXISTS:
    case ErrorCode.IDEMPOTENCY_IN_PROGRESS:
    case ErrorCode.TURN_FINISHED:
      return HttpStatus.CONFLICT;
    case ErrorCode.TURN_NOT_RESUMABLE:
      return HttpStatus.GONE;
    case ErrorCode.IDEMPOTENCY_KEY_REUSED:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case ErrorCode.RATE_LIMITED:
    case ErrorCode.BUDGET_EXCEEDED:
      return HttpStatus.TOO_MANY_REQUESTS;
    case ErrorCode.PAYLOAD_TOO_LARGE:
    case ErrorCode.STORAGE_QUOTA_EXCEEDED:
      return HttpStatus.PAYLOAD_TOO_LARGE;
    case ErrorCode.REQUEST_TIMEOUT:
      return HttpStatus.REQUEST_TIMEOUT;
    case ErrorCode.UNSUPPORTED_MEDIA_TYPE:
      return HttpStatus.UNSUPPORTED_MEDIA_TYPE;
    case ErrorCode.CONTENT_BLOCKED:
    case ErrorCode.MODEL_UNPRICED:
    case ErrorCode.CONTEXT_TOO_LONG:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case ErrorCode.UPSTREAM_RATE_LIMITED:
    case ErrorCode.NOT_READY:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case ErrorCode.UPSTREAM_ERROR:
      return HttpStatus.BAD_GATEWAY;
    case ErrorCode.UPSTREAM_TIMEOUT:
      return HttpStatus.GATEWAY_TIMEOUT;
    case ErrorCode.INTERNAL:
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default: {
      const unhandled: never = code;
      throw new Error(`no status for error code ${String(unhandled)}`);
    }
  }
}

/** A client's value inside a message: quoted, and cut short (an error is a few lines, whatever was sent). */
export function quoted(value: string): string {
  const chars = [...value];
  return `"${chars.length > 80 ? `${chars.slice(0, 80).join('')}…` : value}"`;
}

/**
 * An error the service means to report. The message is written for people: it is sent to the
 * client as is, so it never carries upstream bodies, SQL, stack traces or keys.
 */
export class DomainError extends Error {
  /** More of the error body, beside its code and message: what a refused paid call cost (`usage`, `cost_usd`, `cost_status`). */
  details: Readonly<Record<string, unknown>> = {};

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** This error, its body extended with `details` (snake_case JSON). */
  with(details: Record<string, unknown>): this {
    this.details = { ...this.details, ...details };
    return this;
  }
}

export class ValidationFailed extends DomainError {
  constructor(message: string) {
    super(ErrorCode.VALIDATION_FAILED, message);
  }
}

export class UserNotFound extends DomainError {
  constructor(userId: string) {
    super(ErrorCode.USER_NOT_FOUND, `User ${quoted(userId)} was not found.`);
  }
}

export class SessionNotFound extends DomainError {
  constructor(sessionId: string) {
    super(ErrorCode.SESSION_NOT_FOUND, `Session ${quoted(sessionId)} was not found.`);
  }
}

export class ChatNotFound extends DomainError {
  constructor(chatId: string) {
    super(ErrorCode.CHAT_NOT_FOUND, `Chat ${quoted(chatId)} was not found for this user.`);
  }
}

export class FileNotFound extends DomainError {
  constructor(fileId: string) {
    super(ErrorCode.FILE_NOT_FOUND, `File ${quoted(fileId)} was not found.`);
  }
}

export class TurnNotFound extends DomainError {
  constructor(turnId: string) {
    super(ErrorCode.TURN_NOT_FOUND, `Turn ${quoted(turnId)} was not found in this session (or its events are no longer kept).`);
  }
}

/** A Last-Event-ID or turn id naming no turn whose events are kept for this session: nothing to resume, and no turn is started. */
export class TurnNotResumable extends DomainError {
  constructor(message = "Last-Event-ID names no turn of this session whose events are still kept: read the session's messages instead.") {
    super(ErrorCode.TURN_NOT_RESUMABLE, message);
  }
}

export class TurnFinished extends DomainError {
  constructor(turnId: string) {
    super(ErrorCode.TURN_FINISHED, `Turn ${quoted(turnId)} has already finished: there is nothing to cancel.`);
  }
}

export class UserExists extends DomainError {
  constructor(userId: string) {
    super(ErrorCode.USER_EXISTS, `User ${quoted(userId)} already exists.`);
  }
}

/** Upstream failures: what the LlmClient port throws, whatever the SDK did. */
export class ContentBlocked extends DomainError {
  constructor(message: string) {
    super(ErrorCode.CONTENT_BLOCKED, message);
  }
}

export class UpstreamRateLimited extends DomainError {
  constructor(retryAfterSeconds: number) {
    super(
      ErrorCode.UPSTREAM_RATE_LIMITED,
      'Gemini is rate-limiting this service or its quota is used up; try again later.',
      retryAfterSeconds,
    );
  }
}

export class UpstreamError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.UPSTREAM_ERROR, message);
  }
}

/**
 * Gemini refused a request naming a Files API file it no longer has (403 PERMISSION_DENIED:
 * expired after 48 h, or deleted). Nothing was generated; `uris` lists the files the request
 * named, so the caller can upload them again and retry. Answered as 502 UPSTREAM_ERROR when not recovered.
 */
export class UpstreamFileUnavailable extends DomainError {
  constructor(readonly uris: readonly string[]) {
    super(ErrorCode.UPSTREAM_ERROR, 'Gemini no longer has a file this turn names.');
  }
}

export class UpstreamTimeout extends DomainError {
  constructor(message: string) {
    super(ErrorCode.UPSTREAM_TIMEOUT, message);
  }
}

export class Unauthorized extends DomainError {
  constructor(message = 'An API key is needed: send Authorization: Bearer <key>.') {
    super(ErrorCode.UNAUTHORIZED, message);
  }
}

export class Forbidden extends DomainError {
  constructor(message: string) {
    super(ErrorCode.FORBIDDEN, message);
  }
}

export class KeyNotFound extends DomainError {
  constructor(keyId: string) {
    super(ErrorCode.KEY_NOT_FOUND, `API key ${quoted(keyId)} was not found for this user.`);
  }
}

export class RateLimited extends DomainError {
  /** `counted`: what the window counts, as the message names it ("turns, new sessions and uploads", "estimates"). */
  constructor(retryAfterSeconds: number, limit: number, counted: string) {
    super(
      ErrorCode.RATE_LIMITED,
      `Too many ${counted}: at most ${limit} a minute. Try again in ${retryAfterSeconds} s.`,
      retryAfterSeconds,
    );
  }
}

export class BudgetExceeded extends DomainError {
  /** `spent`: today's spend reached the limit. `in-flight`: with what turns still running may cost, it would. */
  constructor(retryAfterSeconds: number, reason: 'spent' | 'in-flight' = 'spent') {
    super(
      ErrorCode.BUDGET_EXCEEDED,
      reason === 'spent'
        ? 'The daily spending limit of this user is reached; it resets at 00:00 UTC.'
        : 'The daily spending limit of this user would be reached by the turns still running; try again when they are done.',
      retryAfterSeconds,
    );
  }
}

export class IdempotencyInProgress extends DomainError {
  constructor() {
    super(ErrorCode.IDEMPOTENCY_IN_PROGRESS, 'A request with this Idempotency-Key is still running.', 1);
  }
}

export class IdempotencyKeyReused extends DomainError {
  constructor() {
    super(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used with a different request.');
  }
}

/** Why the service cannot serve a request now, and what it tells the client. */
const NOT_READY: Record<NotReadyReason, { message: string; retryAfterSeconds: number }> = {
  migrating: { message: 'The service is starting (its database schema is being migrated): try again shortly.', retryAfterSeconds: 1 },
  draining: { message: 'This instance is shutting down: try again.', retryAfterSeconds: 1 },
  // A database restarting or failing over takes seconds, not one: retries every second would only add load.
  'database-unavailable': { message: 'The database cannot be reached right now: try again shortly.', retryAfterSeconds: 5 },
  // A full disk or a read-only database waits for an operator.
  'database-read-only': {
    message: 'The database cannot take writes right now (it is read-only or its disk is full): try again later.',
    retryAfterSeconds: 30,
  },
};

export type NotReadyReason = 'migrating' | 'draining' | 'database-unavailable' | 'database-read-only';

export class NotReady extends DomainError {
  constructor(reason: NotReadyReason) {
    super(ErrorCode.NOT_READY, NOT_READY[reason].message, NOT_READY[reason].retryAfterSeconds);
  }
}

export class UnsupportedMediaType extends DomainError {
  constructor(contentType: string | undefined) {
    super(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Request bodies are JSON: send Content-Type: application/json${contentType ? `, not ${contentType.slice(0, 100)}` : ''}.`,
    );
  }
}

/** A file whose declared type is not accepted, or does not agree with its bytes. */
export class UnsupportedFileType extends DomainError {
  constructor(message: string) {
    super(ErrorCode.UNSUPPORTED_MEDIA_TYPE, message);
  }
}

export class ModelUnpriced extends DomainError {
  constructor(model: string) {
    super(
      ErrorCode.MODEL_UNPRICED,
      `The model ${quoted(model)} has no price, and this user has a daily spending limit: what cannot be priced cannot be budgeted. Use a priced model (GET /models).`,
    );
  }
}

/**
 * A prompt over its context limit: ours (the session's or the model's, from the table), or the
 * one Gemini named when it refused the call.
 */
export class ContextTooLong extends DomainError {
  constructor(
    /** Null when Gemini named only the limit. */
    readonly promptTokens: number | null,
    readonly limit: number,
    readonly reason: 'disabled' | 'newest-alone' | 'gemini',
  ) {
    super(
      ErrorCode.CONTEXT_TOO_LONG,
      `The prompt is ${promptTokens === null ? 'over' : `${promptTokens} tokens, over`} the context limit of ${limit} tokens. ` +
        (reason === 'disabled'
          ? 'Truncation is disabled for this session: set "truncation": "auto" to leave out its oldest turns, raise max_context_tokens, or start a new session.'
          : reason === 'newest-alone'
            ? 'That is the system instruction and the new message alone, with no earlier turn: shorten them.'
            : "Gemini refused it as over the model's limit, even with older turns left out to fit the limit it named."),
    );
  }
}

/** A byte count as people read it: `1 MiB`, `20 MiB`, `512 KiB`, `1000 bytes`. */
export function byteSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const)
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  return `${bytes} bytes`;
}

export class PayloadTooLarge extends DomainError {
  constructor(limitBytes = 1024 * 1024) {
    super(ErrorCode.PAYLOAD_TOO_LARGE, `The request body is larger than the limit of ${byteSize(limitBytes)}.`);
  }
}

export class StorageQuotaExceeded extends DomainError {
  constructor(quotaBytes: number, usedBytes: number) {
    super(
      ErrorCode.STORAGE_QUOTA_EXCEEDED,
      `This file would take the user's stored files over their quota of ${byteSize(quotaBytes)} (${usedBytes} bytes are in use): delete files first.`,
    );
  }
}

export class RequestTimeout extends DomainError {
  constructor(seconds: number) {
    super(ErrorCode.REQUEST_TIMEOUT, `The request body did not arrive within ${seconds} s.`);
  }
}

export class MethodNotAllowed extends DomainError {
  constructor(method: string, allowed: string[]) {
    super(ErrorCode.METHOD_NOT_ALLOWED, `${method.slice(0, 20)} is not a method of this route; it takes ${allowed.join(', ')}.`);
  }
}

/**
 * A request whose `Host` is not one the service answers to (open mode: loopback names; or not
 * in ALLOWED_HOSTS): a page whose name was rebound to this machine's address gets nothing.
 */
export class HostNotAllowed extends DomainError {
  constructor(host: string | undefined) {
    super(
      ErrorCode.HOST_NOT_ALLOWED,
      `${host === undefined ? 'A request without a Host header' : `The Host ${quoted(host)}`} is not served here: ` +
        'only loopback names (localhost, 127.0.0.1, [::1]) and the names in ALLOWED_HOSTS are.',
    );
  }
}
