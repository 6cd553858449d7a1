import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { DomainError, ErrorCode, statusFor } from './errors.js';

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
  const exception = thrown instanceof HttpException && isBodyParserError(thrown.cause) ? thrown.cause : thrown;
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

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const { body, retryAfterSeconds } = toErrorBody(exception);
    const requestId = response.getHeader('x-request-id');
    if (body.code === ErrorCode.INTERNAL) {
      this.logger.error(
        `request ${String(requestId)} ${request.method} ${request.path} failed: ${describe(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    } else if (body.statusCode >= 500) {
      this.logger.warn(`request ${String(requestId)} ${request.method} ${request.path}: ${body.code}`);
    }
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
