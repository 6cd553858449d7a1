import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;
const logger = new Logger('HTTP');

/**
 * Gives every request an id, echoed as `X-Request-Id` (a sane incoming one is kept), and logs
 * one line per request with it once the response is finished.
 */
export function requestId(request: Request, response: Response, next: NextFunction): void {
  const incoming = request.header('x-request-id');
  const id = incoming && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
  const startedAt = performance.now();
  response.locals.requestId = id;
  response.locals.startedAt = startedAt;
  response.setHeader('X-Request-Id', id);
  response.on('close', () => {
    const ms = (performance.now() - startedAt).toFixed(1);
    const aborted = response.writableFinished ? '' : ' (client went away)';
    logger.log(`${request.method} ${request.path} ${response.statusCode} ${ms}ms request_id=${id}${aborted}`);
  });
  next();
}

export function requestStartedAt(response: Response): number {
  return (response.locals.startedAt as number | undefined) ?? performance.now();
}
