import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface SseEvent {
  event: string;
  data: any;
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
}

/** POSTs a message with `Accept: text/event-stream` and collects what comes back. */
export function streamMessage(baseUrl: string, sessionId: string, message: string, options: SseOptions = {}): Promise<SseResult> {
  const payload = JSON.stringify({ message });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}/sessions/${sessionId}/messages`,
      {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let body = '';
        const events: SseEvent[] = [];
        const finish = () => resolve({ status: res.statusCode!, headers: res.headers, events, body, trailers: res.trailers });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (!String(res.headers['content-type']).startsWith('text/event-stream')) return;
          events.splice(0, events.length, ...parseEvents(body));
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
    req.end(payload);
  });
}

/** Complete events only: `event: x` and `data: <json>` lines, ended by a blank line. */
export function parseEvents(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .slice(0, -1)
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? 'message';
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice('data: '.length))
        .join('\n');
      return { event, data: JSON.parse(data) };
    });
}
