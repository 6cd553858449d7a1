import type { NextFunction, Request, Response } from 'express';
import type { RequestWithCaller } from '../access/access.js';
import type { Caller } from '../access/caller.js';
import { DomainError, PayloadTooLarge, RequestTimeout } from '../common/errors.js';
import { toErrorBody } from '../common/http-exception.filter.js';

export interface BodyGateOptions {
  limitBytes: number;
  timeoutMs: number;
  /** Who an Authorization header stands for; throws 401 when keys are required and it is not a valid one. */
  callerFor: (authorization: string | undefined) => Promise<Caller>;
}

/**
 * What is decided about a request body before a byte of it is read: a Content-Length over the
 * limit is 413, and — when keys are required — a request without a valid key is 401 (every
 * route that takes a body needs one). Each answer closes the connection, so the unread body is
 * never read. A body that has not arrived whole within `timeoutMs` is 408. Requests without a
 * body pass untouched; the AuthGuard still decides everything else.
 */
export function bodyGate({ limitBytes, timeoutMs, callerFor }: BodyGateOptions) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const length = request.headers['content-length'];
    const chunked = request.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || Number(length) === 0)) return next();
    if (length !== undefined && Number(length) > limitBytes) return refuse(response, new PayloadTooLarge());
    const timer = setTimeout(() => refuse(response, new RequestTimeout(timeoutMs / 1000)), timeoutMs);
    const stop = () => clearTimeout(timer);
    request.once('end', stop);
    request.once('close', stop);
    response.once('finish', stop);
    callerFor(request.headers.authorization).then(
      (caller) => {
        if (response.headersSent) return; // the 408 went out while the key was looked up
        (request as RequestWithCaller).caller = caller; // the AuthGuard need not look it up again
        next();
      },
      (error: unknown) => (error instanceof DomainError ? refuse(response, error) : next(error)),
    );
  };
}

function refuse(response: Response, error: DomainError): void {
  if (response.headersSent) return;
  const { body } = toErrorBody(error);
  response.setHeader('Connection', 'close');
  if (body.statusCode === 401) response.setHeader('WWW-Authenticate', 'Bearer');
  response.status(body.statusCode).json(body);
  // The body is not read: the connection goes once the answer is out.
  response.once('finish', () => response.req.socket.destroySoon());
}
