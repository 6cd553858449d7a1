import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { databaseFailureOf } from '../core/database-failure.js';
import { DomainError, ErrorCode, NotReady, statusFor } from './errors.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: ErrorCode;
  message: string;
  /** What a refused call Gemini billed cost (CONTENT_BLOCKED, UPSTREAM_*): `usage`, `cost_usd`, `cost_status`, `priced_as`. */
  [detail: string]: unknown;
}

/** body-parser reports its failures as errors carrying `type` and `status`. */
interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as BodyParserError).type === 'string' &&
    typeof (error as BodyParserError).status === 'number'
  );
}

function codeForHttpStatus(status: number): ErrorCode {
  if (status === Number(HttpStatus.NOT_FOUND)) return ErrorCode.ROUTE_NOT_FOUND;
  if (status === Number(HttpStatus.PAYLOAD_TOO_LARGE)) return ErrorCode.PAYLOAD_TOO_LARGE;
  return status >= 400 && status < 500 ? ErrorCode.VALIDATION_FAILED : ErrorCode.INTERNAL;
}

/** Turns anything thrown into the error body of the contract. */
export function toErrorBody(thrown: unknown): { body: ErrorBody; retryAfterSeconds?: number } {
  // The Express adapter wraps body-parser failures in an HttpException; judge the original.
  const unwrapped = thrown instanceof HttpException && isBodyParserError(thrown.cause) ? thrown.cause : thrown;
  // A database that cannot be reached or written is the service not ready, never a 500.
  const exception = asNotReady(unwrapped) ?? unwrapped;
  let code: ErrorCode;
  let message: string;
  let status: number;
  let retryAfterSeconds: number | undefined;
  let details: Readonly<Record<string, unknown>> = {};
  if (exception instanceof DomainError) {
    details = exception.details;
    code = exception.code;
    status = statusFor(code);
    message = exception.message;
    retryAfterSeconds = exception.retryAfterSeconds;
  } else if (isBodyParserError(exception)) {
    status = exception.status === 413 ? 413 : 400;
    code = codeForHttpStatus(status);
    message =
      exception.type === 'entity.too.large'
        ? 'The request body is larger than the limit of 1 MiB.'
        : exception.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON.'
          : 'The request body could not be read.';
  } else if (exception instanceof HttpException) {
    status = exception.getStatus();
    code = codeForHttpStatus(status);
    message =
      code === ErrorCode.ROUTE_NOT_FOUND
        ? 'No such route.'
        : code === ErrorCode.INTERNAL
          ? 'Something went wrong on our side.'
          : exception.message;
    if (code === ErrorCode.VALIDATION_FAILED || code === ErrorCode.PAYLOAD_TOO_LARGE) status = statusFor(code);
  } else {
    code = ErrorCode.INTERNAL;
    status = statusFor(code);
    message = 'Something went wrong on our side.';
  }
  return {
    // The details follow the contract's four fields (set by this service alone, they never replace them).
    body: { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message, ...details },
    retryAfterSeconds,
  };
}

function asNotReady(exception: unknown): NotReady | null {
  if (exception instanceof DomainError) return null;
  const failure = databaseFailureOf(exception);
  return failure && new NotReady(failure === 'unavailable' ? 'database-unavailable' : 'database-read-only');
}

/**
 * The server's log line for a failure its client sees as `body` (one per failure: the filter's,
 * or a stream's once it has started): a 500 with its stack; a database failure with what the
 * driver said — its code and message, never the statement's parameters (user text); other 5xx by
 * their code. Client errors are not logged here.
 */
export function logFailure(logger: Logger, subject: string, exception: unknown, body: ErrorBody): void {
  if (body.code === ErrorCode.INTERNAL) {
    logger.error(`${subject} failed: ${describe(exception)}`, exception instanceof Error ? exception.stack : undefined);
  } else if (body.statusCode >= 500) {
    const failure = exception instanceof DomainError ? null : databaseFailureOf(exception);
    logger.warn(`${subject}: ${body.code}${failure ? ` (database ${failure}: ${describeDatabaseError(exception)})` : ''}`);
  }
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const { body, retryAfterSeconds } = toErrorBody(exception);
    const requestId = response.getHeader('x-request-id');
    logFailure(this.logger, `request ${String(requestId)} ${request.method} ${request.path}`, exception, body);
    if (response.headersSent) {
      response.end();
      return;
    }
    if (retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(retryAfterSeconds));
    if (body.code === ErrorCode.UNAUTHORIZED) response.setHeader('WWW-Authenticate', 'Bearer');
    response.status(body.statusCode).json(body);
  }
}

function describe(exception: unknown): string {
  return exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception);
}

/**
 * The driver's code and message, on one line and cut short. TypeORM's QueryFailedError carries
 * the statement and its parameters too: those are left out, they may hold what a user wrote.
 */
function describeDatabaseError(exception: unknown): string {
  const { code, message } = exception as { code?: unknown; message?: unknown };
  const text = `${typeof code === 'string' ? `${code} ` : ''}${typeof message === 'string' ? message : ''}`;
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200);
}
