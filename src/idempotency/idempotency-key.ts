import { createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ValidationFailed } from '../common/errors.js';

/** Marks an answer given again for a repeated Idempotency-Key. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A request's Idempotency-Key, read and checked at the edge, and how its answer says it is a replay. */
export interface IdempotentRequest {
  /** Undefined: no key was sent, the request simply runs. */
  key: string | undefined;
  /** The answer about to be written is the first request's, given again (its result or its client error). */
  markReplayed(): void;
}

/** For callers that are not HTTP requests (tests, internal use): no key. */
export const WITHOUT_KEY: IdempotentRequest = Object.freeze({ key: undefined, markReplayed: () => undefined });

/** The header's value, or 400 VALIDATION_FAILED when it is not 1–255 visible ASCII characters. */
export function readIdempotencyKey(header: string | undefined): string | undefined {
  if (header !== undefined && !KEY_PATTERN.test(header))
    throw new ValidationFailed('Idempotency-Key: must be 1–255 visible ASCII characters');
  return header;
}

/**
 * The route parameter of a request that may carry an Idempotency-Key. The one place the header
 * is read and checked, and the one place the replay header is written: whatever the answer — a
 * result as JSON, a remembered client error through the exception filter — it is marked before
 * it is written.
 */
export const IdempotencyKey = createParamDecorator((_data: unknown, context: ExecutionContext): IdempotentRequest => {
  const http = context.switchToHttp();
  const key = readIdempotencyKey(http.getRequest<Request>().header('idempotency-key'));
  const response = http.getResponse<Response>();
  return { key, markReplayed: () => void response.setHeader(REPLAYED_HEADER, 'true') };
});
