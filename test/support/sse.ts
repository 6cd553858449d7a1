import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface SseEvent {
  event: string;
  data: any;
  /** The `id:` line, when the event has one (`<turn_id>:<seq>`). */
  id?: string;
}

export interface SseResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed events for a stream; empty for a JSON answer. */
  events: SseEvent[];
  /** The raw body (the JSON error body when the server did not stream). */
  body: string;
  trailers: NodeJS.Dict<string>;
}

export interface SseOptions {
  /** Hang up once this many delta events have arrived. */
  disconnectAfterDeltas?: number;
  /** Called with each event as it arrives, e.g. to break something while the stream runs. */
  onEvent?: (event: SseEvent) => void;
}

/** POSTs a message with `Accept: text/event-stream` and collects what comes back. */
export function streamMessage(
  baseUrl: string,
  sessionId: string,
  message: string,
  options: SseOptions & { headers?: Record<string, string> } = {},
): Promise<SseResult> {
  return openStream(baseUrl, 'POST', `/sessions/${sessionId}/messages`, { ...options, body: { message } });
}

/** GET /sessions/:id/turns/:turn_id/events, with `Last-Event-ID` when given. */
export function turnEvents(
  baseUrl: string,
  sessionId: string,
  turnId: string,
  options: SseOptions & { lastEventId?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = {
    ...options.headers,
    ...(options.lastEventId === undefined ? {} : { 'last-event-id': options.lastEventId }),
  };
  return openStream(baseUrl, 'GET', `/sessions/${sessionId}/turns/${turnId}/events`, { ...options, headers });
}

/** Any request answered with Server-Sent Events (or a JSON error), collected. */
export function openStream(
  baseUrl: string,
  method: string,
  path: string,
  options: SseOptions & { body?: unknown; headers?: Record<string, string> } = {},
): Promise<SseResult> {
  const payload = options.body === undefined ? null : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}${path}`,
      {
        method,
        headers: {
          accept: 'text/event-stream',
          ...(payload === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...options.headers,
        },
      },
      (res) => {
        let body = '';
        const events: SseEvent[] = [];
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          resolve({ status: res.statusCode!, headers: res.headers, events, body, trailers: res.trailers });
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (!String(res.headers['content-type']).startsWith('text/event-stream')) return;
          const seen = events.length;
          events.splice(0, events.length, ...parseEvents(body));
          for (const event of events.slice(seen)) options.onEvent?.(event);
          const deltas = events.filter((e) => e.event === 'delta').length;
          if (options.disconnectAfterDeltas !== undefined && deltas >= options.disconnectAfterDeltas) {
            req.destroy();
            finish();
          }
        });
        res.on('end', finish);
        res.on('error', () => finish());
      },
    );
    req.on('error', (error) => {
      if (options.disconnectAfterDeltas === undefined) reject(error);
    });
    req.end(payload ?? undefined);
  });
}

export interface ParseOptions {
  /** The body is whole: a last event that lacks its closing blank line counts too. */
  ended?: boolean;
  /**
   * Read whatever came, as the fuzz spec does: blank blocks are skipped and an event without a
   * data line has `data: undefined`, where by default both fail.
   */
  lenient?: boolean;
}

/** An event whose data does not parse (or that has none): its name and its data as sent. */
export class SseDataError extends Error {
  override name = 'SseDataError';

  constructor(
    readonly event: string,
    readonly data: string | undefined,
    reason: string,
  ) {
    super(`event "${event}" whose data is not JSON (${reason}): ${JSON.stringify(data)}`);
  }
}

/**
 * The events of an SSE body as the service writes them: `event: x` (`message` when there is
 * none) and `data: <json>` lines (several are joined by a newline, as SSE says), ended by a blank
 * line. Complete events only, unless the body has `ended`. SSE lines end at \n only here (the
 * service writes no \r); a regex `.` would also stop at U+2028.
 */
export function parseEvents(text: string, { ended = false, lenient = false }: ParseOptions = {}): SseEvent[] {
  const blocks = text.split('\n\n');
  // The piece after the last blank line: an event still arriving, or nothing at all.
  const last = blocks.pop()!;
  if (ended && last !== '') blocks.push(last);
  return (
    blocks
      .filter((block) => !lenient || block.trim() !== '')
      // A block of only `retry:` (or `id:`, or comments) dispatches no event: SSE's reconnection hint.
      .filter((block) => !/^(?:(?:retry|id): [^\n]*|:[^\n]*)(?:\n(?:(?:retry|id): [^\n]*|:[^\n]*))*$/.test(block))
      .map((block) => {
        const lines = block.split('\n');
        const id = lines.find((l) => l.startsWith('id: '))?.slice('id: '.length);
        const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? 'message';
        const dataLines = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice('data: '.length));
        if (dataLines.length === 0 && lenient) return { event, data: undefined, ...(id === undefined ? {} : { id }) };
        const data = dataLines.join('\n');
        try {
          return { event, data: JSON.parse(data), ...(id === undefined ? {} : { id }) };
        } catch (error) {
          throw new SseDataError(event, dataLines.length === 0 ? undefined : data, (error as Error).message);
        }
      })
  );
}
