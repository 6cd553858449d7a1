import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { ErrorCode } from '../common/errors.js';
import { toErrorBody } from '../common/http-exception.filter.js';
import { requestStartedAt } from '../common/request-id.middleware.js';

export function wantsEventStream(request: Request): boolean {
  return (request.headers.accept ?? '').includes('text/event-stream');
}

/** `Server-Timing: upstream;dur=…, total;dur=…` in milliseconds, total from request arrival. */
export function serverTiming(response: Response, upstreamMs: number): string {
  const total = performance.now() - requestStartedAt(response);
  return `upstream;dur=${upstreamMs.toFixed(1)}, total;dur=${total.toFixed(1)}`;
}

/**
 * Server-Sent Events for one turn. The stream opens with the first delta, so a turn that fails
 * before any text arrives still answers with its real status and a JSON error body.
 */
export class TurnEventStream {
  private readonly logger = new Logger(TurnEventStream.name);
  private opened = false;

  constructor(private readonly response: Response) {}

  get started(): boolean {
    return this.opened;
  }

  /** The client may have gone; the turn goes on and is stored, we just stop writing. */
  private get gone(): boolean {
    return this.response.destroyed || this.response.writableEnded;
  }

  delta(text: string): void {
    this.send('delta', { text });
  }

  done(body: unknown, upstreamMs: number): void {
    this.send('done', body);
    this.close(upstreamMs);
  }

  /** An error after the stream opened: an `error` event with the contract's error body. */
  fail(error: unknown, upstreamMs: number | null): void {
    const { body } = toErrorBody(error);
    if (body.code === ErrorCode.INTERNAL) this.logger.error(`streamed turn failed: ${String(error)}`);
    this.send('error', body);
    this.close(upstreamMs);
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    this.response.status(200);
    this.response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.response.setHeader('Cache-Control', 'no-store');
    this.response.setHeader('X-Accel-Buffering', 'no');
    // Timing is known only at the end: it follows the body as a trailer.
    this.response.setHeader('Trailer', 'Server-Timing');
    this.response.flushHeaders();
  }

  private send(event: string, data: unknown): void {
    this.open();
    if (!this.gone) this.response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private close(upstreamMs: number | null): void {
    if (this.gone) return;
    if (upstreamMs !== null) this.response.addTrailers({ 'Server-Timing': serverTiming(this.response, upstreamMs) });
    this.response.end();
  }
}
