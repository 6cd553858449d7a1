import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { logFailure, toErrorBody } from '../common/http-exception.filter.js';
import { requestStartedAt } from '../http/request-id.middleware.js';
import type { TurnResult } from './store-turn.js';
import type { TurnReply } from './turn.service.js';

/**
 * The HTTP edge of a turn: the same use case answers as JSON, or — when the client accepts
 * `text/event-stream` — as Server-Sent Events. Only the writing differs.
 */
export async function answerTurn(
  request: Request,
  response: Response,
  status: number,
  render: (result: TurnResult) => unknown,
  send: (onDelta?: (text: string) => void) => Promise<TurnReply>,
): Promise<void> {
  if (!wantsEventStream(request)) {
    writeJson(response, status, render, await send());
    return;
  }
  const events = new TurnEventStream(response);
  let reply: TurnReply;
  try {
    reply = await send((text) => events.delta(text));
  } catch (error) {
    // Before the first delta the error is answered like a JSON turn's (its status, its body).
    if (!events.started) throw error;
    events.fail(error);
    return;
  }
  // A replay has nothing to stream: it is the stored answer, as JSON.
  if (reply.replayed) writeJson(response, status, render, reply);
  else events.done(render(reply.result), reply.upstreamMs!);
}

function writeJson(response: Response, status: number, render: (result: TurnResult) => unknown, reply: TurnReply): void {
  response.setHeader('Server-Timing', serverTiming(response, reply.upstreamMs));
  response.status(status).json(render(reply.result));
}

function wantsEventStream(request: Request): boolean {
  return (request.headers.accept ?? '').includes('text/event-stream');
}

/** `Server-Timing: upstream;dur=…, total;dur=…` in milliseconds, total from request arrival. */
function serverTiming(response: Response, upstreamMs: number | null): string {
  const total = `total;dur=${(performance.now() - requestStartedAt(response)).toFixed(1)}`;
  return upstreamMs === null ? total : `upstream;dur=${upstreamMs.toFixed(1)}, ${total}`;
}

/**
 * Server-Sent Events for one turn. The stream opens with the first delta, so a turn that fails
 * before any text arrives still answers with its real status and a JSON error body.
 */
class TurnEventStream {
  private readonly logger = new Logger('TurnEventStream');
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
  fail(error: unknown): void {
    const { body } = toErrorBody(error);
    logFailure(this.logger, `request ${String(this.response.getHeader('x-request-id'))} streamed turn`, error, body);
    this.send('error', body);
    this.close(null);
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
