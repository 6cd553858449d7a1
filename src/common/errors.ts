import { HttpStatus } from '@nestjs/common';

/** Every error code a client can see. Adding one without a status below is a compile error. */
export enum ErrorCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  USER_NOT_FOUND = 'USER_NOT_FOUND',
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  CHAT_NOT_FOUND = 'CHAT_NOT_FOUND',
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  USER_EXISTS = 'USER_EXISTS',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  CONTENT_BLOCKED = 'CONTENT_BLOCKED',
  UPSTREAM_RATE_LIMITED = 'UPSTREAM_RATE_LIMITED',
  UPSTREAM_ERROR = 'UPSTREAM_ERROR',
  UPSTREAM_TIMEOUT = 'UPSTREAM_TIMEOUT',
  INTERNAL = 'INTERNAL',
}

export function statusFor(code: ErrorCode): HttpStatus {
  switch (code) {
    case ErrorCode.VALIDATION_FAILED:
      return HttpStatus.BAD_REQUEST;
    case ErrorCode.USER_NOT_FOUND:
    case ErrorCode.SESSION_NOT_FOUND:
    case ErrorCode.CHAT_NOT_FOUND:
    case ErrorCode.ROUTE_NOT_FOUND:
      return HttpStatus.NOT_FOUND;
    case ErrorCode.USER_EXISTS:
      return HttpStatus.CONFLICT;
    case ErrorCode.PAYLOAD_TOO_LARGE:
      return HttpStatus.PAYLOAD_TOO_LARGE;
    case ErrorCode.CONTENT_BLOCKED:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case ErrorCode.UPSTREAM_RATE_LIMITED:
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

/**
 * An error the service means to report. The message is written for people: it is sent to the
 * client as is, so it never carries upstream bodies, SQL, stack traces or keys.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class ValidationFailed extends DomainError {
  constructor(message: string) {
    super(ErrorCode.VALIDATION_FAILED, message);
  }
}

export class UserNotFound extends DomainError {
  constructor(userId: string) {
    super(ErrorCode.USER_NOT_FOUND, `User "${userId}" was not found.`);
  }
}

export class SessionNotFound extends DomainError {
  constructor(sessionId: string) {
    super(ErrorCode.SESSION_NOT_FOUND, `Session "${sessionId}" was not found.`);
  }
}

export class ChatNotFound extends DomainError {
  constructor(chatId: string) {
    super(ErrorCode.CHAT_NOT_FOUND, `Chat "${chatId}" was not found for this user.`);
  }
}

export class UserExists extends DomainError {
  constructor(userId: string) {
    super(ErrorCode.USER_EXISTS, `User "${userId}" already exists.`);
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

export class UpstreamTimeout extends DomainError {
  constructor(message: string) {
    super(ErrorCode.UPSTREAM_TIMEOUT, message);
  }
}
