import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { RequestWithCaller } from '../access/access.js';
import type { Caller } from '../access/caller.js';
import { DomainError, PayloadTooLarge, RequestTimeout } from '../common/errors.js';
import { toErrorBody } from '../common/http-exception.filter.js';

/**
 * A route whose body is the raw bytes of a file, not JSON (POST /files): its own size limit, and
 * the JSON parser and JsonBodiesGuard leave it alone. app.setup.ts lists them, the one place
 * that decides which routes take raw bodies.
 */
export interface RawBodyRoute {
  method: string;
  path: string;
  limitBytes: number;
}

/**
 * The slowest upload a raw body is given time for, on top of REQUEST_BODY_TIMEOUT_MS: 128 KiB/s
 * (about 1 Mbit/s), so a 20 MiB file has 160 s more.
 */
export const RAW_BODY_MIN_BYTES_PER_SECOND = 128 * 1024;

/** Set by the body gate on a request to a raw-body route: its limit. */
const RAW_BODY_LIMIT = Symbol('rawBodyLimit');
type RequestWithRawBody = Request & { [RAW_BODY_LIMIT]?: number };

/** Whether the body gate found the request to be for a raw-body route (the JSON parser and JsonBodiesGuard leave it alone). */
export function takesRawBody(request: IncomingMessage): boolean {
  return (request as RequestWithRawBody)[RAW_BODY_LIMIT] !== undefined;
}

export interface BodyGateOptions {
  /** The limit of every JSON body. */
  limitBytes: number;
  rawBodies: RawBodyRoute[];
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
export function bodyGate({ limitBytes: jsonLimitBytes, rawBodies, timeoutMs: jsonTimeoutMs, callerFor }: BodyGateOptions) {
  return (request: Request, response: Response, next: NextFunction): void => {
    // As Express routes: any case, a trailing slash or not (`POST /Files/` reaches the same handler).
    const path = request.path.toLowerCase().replace(/(?<=.)\/+$/, '');
    const raw = rawBodies.find((route) => route.method === request.method && route.path === path);
    if (raw) markRawBody(request as RequestWithRawBody, response, raw.limitBytes);
    const limitBytes = raw?.limitBytes ?? jsonLimitBytes;
    const length = request.headers['content-length'];
    const chunked = request.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || Number(length) === 0)) return next();
    if (length !== undefined && Number(length) > limitBytes) return refuse(response, new PayloadTooLarge(limitBytes));
    // A file may be large: it gets the time of a JSON body plus that of its bytes at a slow upload rate.
    const timeoutMs = raw
      ? jsonTimeoutMs + Math.ceil(((length !== undefined ? Number(length) : limitBytes) / RAW_BODY_MIN_BYTES_PER_SECOND) * 1000)
      : jsonTimeoutMs;
    const timer = setTimeout(() => refuse(response, new RequestTimeout(Math.ceil(timeoutMs / 1000))), timeoutMs);
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

/**
 * A raw body is read by its route, after the access checks: a request answered before it was
 * read whole (404, 415, 429, …) closes its connection rather than have Node read and discard
 * what may be megabytes.
 */
function markRawBody(request: RequestWithRawBody, response: Response, limitBytes: number): void {
  request[RAW_BODY_LIMIT] = limitBytes;
  response.once('finish', () => {
    if (!request.complete) request.socket.destroySoon();
  });
}

/** A raw body read whole: its bytes and their SHA-256, computed while it arrived. */
export interface RawBody {
  bytes: Buffer;
  sha256: string;
}

/**
 * Reads the body of a raw-body route, hashing as it goes. With a Content-Length (which the body
 * gate held to the limit, and Node's parser holds the body to) each chunk is copied into one
 * Buffer of that length as it arrives: the file is in memory once, beside the chunk in hand. A
 * chunked body, whose length nobody announced, is kept as a list of chunks joined once at its
 * end (two copies then), and refused with 413 as soon as it passes the route's limit.
 */
export function readRawBody(request: Request): Promise<RawBody> {
  const limitBytes = (request as RequestWithRawBody)[RAW_BODY_LIMIT];
  if (limitBytes === undefined) throw new Error(`${request.method} ${request.path} is not a raw-body route (app.setup.ts)`);
  const announced = request.headers['transfer-encoding'] === undefined ? Number(request.headers['content-length'] ?? 0) : NaN;
  return new Promise((resolve, reject) => {
    // Either the one Buffer of the announced length (allocated, not written: its pages become
    // resident as the bytes arrive), or the chunks of a chunked body.
    let whole: Buffer | null =
      Number.isSafeInteger(announced) && announced > 0 && announced <= limitBytes ? Buffer.allocUnsafe(announced) : null;
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let length = 0;
    const onData = (chunk: Buffer) => {
      if (length + chunk.length > limitBytes) {
        cleanUp();
        request.pause();
        request.res?.setHeader('Connection', 'close');
        whole = null;
        chunks.length = 0;
        reject(new PayloadTooLarge(limitBytes));
        return;
      }
      hash.update(chunk);
      if (whole && length + chunk.length <= whole.length) {
        chunk.copy(whole, length);
      } else {
        // More than announced (Node's parser does not let that happen): the rest as chunks.
        if (whole) chunks.push(whole.subarray(0, length));
        whole = null;
        chunks.push(chunk);
      }
      length += chunk.length;
    };
    const onEnd = () => {
      cleanUp();
      const bytes = whole ? whole.subarray(0, length) : Buffer.concat(chunks, length);
      resolve({ bytes, sha256: hash.digest('hex') });
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(error);
    };
    const cleanUp = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onError);
  });
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
