import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { logFailure, toErrorBody } from '../common/http-exception.filter.js';
import { requestStartedAt } from '../http/request-id.middleware.js';
import { TurnNotResumable } from '../common/errors.js';
import { eventIdOf } from '../streams/turn-event.js';
import type { TurnEvent } from '../streams/turn-event.js';
import type { TurnResult } from './store-turn.js';
import type { TurnReply, TurnStreaming } from './turn.service.js';

/**
 * The HTTP edge of a turn: the same use case answers as JSON, or — when the client accepts
 * `text/event-stream` — as Server-Sent Events. Only the writing differs.
 */
export async function answerTurn(
  request: Request,
  response: Response,
  status: number,
  render: (result: TurnResult) => unknown,
  send: (stream?: TurnStreaming) => Promise<TurnReply>,
): Promise<void> {
  if (!wantsEventStream(request)) {
    writeJson(response, status, render, await send());
    return;
  }
  const events = new TurnEventStream(response);
  let turnId = '';
  let reply: TurnReply;
  try {
    reply = await send({
      render,
      onEvent: (event) => {
        if (event.event === 'turn') turnId = (event.data as { turn_id: string }).turn_id;
        events.write(turnId, event);
      },
    });
  } catch (error) {
    // Refused before Gemini was called: answered like a JSON turn (its status, its body). After,
    // the turn's `error` event was its last.
    if (!events.started) throw error;
    events.failed(error, false);
    events.close(null);
    return;
  }
  // A replay has nothing to stream: it is the stored answer, as JSON.
  if (!events.started) writeJson(response, status, render, reply);
  else events.close(reply.upstreamMs);
}

/**
 * A turn's events read back from the database (TurnStreams.follow): the rest of a turn a client
 * lost, replayed when it is over, followed as it is written when it runs. `follow` resolves false
 * when the turn went away meanwhile: an `error` event (TURN_NOT_RESUMABLE) ends the stream then.
 */
export async function followTurn(
  response: Response,
  { turnId, ended }: { turnId: string; ended: boolean },
  follow: (write: (event: TurnEvent) => void, stop: AbortSignal) => Promise<boolean>,
): Promise<void> {
  // The client has every event, the last included: 204, on which an EventSource stops reconnecting.
  if (ended) {
    response.status(204).end();
    return;
  }
  const events = new TurnEventStream(response);
  events.open();
  const stop = new AbortController();
  response.once('close', () => stop.abort());
  // Gone before the stream opened: 'close' came already, and would never stop the reading.
  if (response.destroyed) stop.abort();
  let followed: boolean;
  try {
    followed = await follow((event) => events.write(turnId, event), stop.signal);
  } catch (error) {
    events.failed(error, true);
    events.close(null);
    return;
  }
  if (!followed)
    events.failed(
      new TurnNotResumable('The turn went away while it was followed (its session was deleted, or its instance stopped).'),
      true,
    );
  events.close(null);
}

function writeJson(response: Response, status: number, render: (result: TurnResult) => unknown, reply: TurnReply): void {
  response.setHeader('Server-Timing', serverTiming(response, reply.upstreamMs));
  response.status(status).json(render(reply.result));
}

export function wantsEventStream(request: Request): boolean {
  return (request.headers.accept ?? '').includes('text/event-stream');
}

/** `Server-Timing: upstream;dur=…, total;dur=…` in milliseconds, total from request arrival. */
function serverTiming(response: Response, upstreamMs: number | null): string {
  const total = `total;dur=${(performance.now() - requestStartedAt(response)).toFixed(1)}`;
  return upstreamMs === null ? total : `upstream;dur=${upstreamMs.toFixed(1)}, ${total}`;
}

/** How long a client waits before it reconnects (the `retry:` hint every turn stream starts with). */
export const RETRY_MS = 1000;

/**
 * Server-Sent Events for one turn. The stream opens with the turn's first event (`turn`), once it
 * is admitted and about to call Gemini, so a turn refused before that still answers with its
 * real status and a JSON error body. Every event carries `id: <turn_id>:<seq>`, for Last-Event-ID.
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

  write(turnId: string, { seq, event, data }: TurnEvent): void {
    this.open();
    if (!this.gone) this.response.write(`id: ${eventIdOf(turnId, seq)}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /**
   * A failure after the stream opened, logged; with `asEvent`, an `error` event without an id: it
   * is not one of the turn's own (those came through `write`), so Last-Event-ID stays on the last.
   */
  failed(error: unknown, asEvent: boolean): void {
    const { body } = toErrorBody(error);
    logFailure(this.logger, `request ${String(this.response.getHeader('x-request-id'))} streamed turn`, error, body);
    if (asEvent && !this.gone) this.response.write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
  }

  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.response.status(200);
    this.response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.response.setHeader('Cache-Control', 'no-store');
    this.response.setHeader('X-Accel-Buffering', 'no');
    // Timing is known only at the end: it follows the body as a trailer.
    this.response.setHeader('Trailer', 'Server-Timing');
    this.response.flushHeaders();
    this.response.write(`retry: ${RETRY_MS}\n\n`);
  }

  close(upstreamMs: number | null): void {
    if (this.gone) return;
    if (upstreamMs !== null) this.response.addTrailers({ 'Server-Timing': serverTiming(this.response, upstreamMs) });
    this.response.end();
  }
}
