import http, { STATUS_CODES } from 'node:http';
import type { DataSource } from 'typeorm';

/**
 * A raw HTTP client for the fuzz spec. node:http sends the request target byte for byte (no URL
 * normalisation: `..` and `%00` reach the server as generated), and lets the spec set any header
 * value Node can put on the wire.
 */

export interface FuzzRequest {
  method: string;
  /** The request target, already a valid one (only printable ASCII, segments percent-encoded). */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  ms: number;
}

const REQUEST_TIMEOUT_MS = 15_000;

export function sendRaw(baseUrl: string, agent: http.Agent, request: FuzzRequest): Promise<FuzzResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined) headers['content-length'] = String(request.body.length);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: Number(url.port), method: request.method, path: request.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Row counts of every table a request may write, in one query. */
export interface RowCounts {
  users: number;
  chat_sessions: number;
  chat_history: number;
  api_keys: number;
  idempotency_records: number;
}

const COUNTS_SQL =
  'SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM chat_sessions) AS chat_sessions, ' +
  '(SELECT COUNT(*) FROM chat_history) AS chat_history, (SELECT COUNT(*) FROM api_keys) AS api_keys, ' +
  '(SELECT COUNT(*) FROM idempotency_records) AS idempotency_records';

export async function rowCounts(dataSource: DataSource): Promise<RowCounts> {
  const [row] = await dataSource.query<Record<keyof RowCounts, number | string>[]>(COUNTS_SQL);
  return {
    users: Number(row.users),
    chat_sessions: Number(row.chat_sessions),
    chat_history: Number(row.chat_history),
    api_keys: Number(row.api_keys),
    idempotency_records: Number(row.idempotency_records),
  };
}

export function sameCounts(a: RowCounts, b: RowCounts): boolean {
  return (Object.keys(a) as (keyof RowCounts)[]).every((table) => a[table] === b[table]);
}

/** Path segment text for a user id or other string: UTF-8 bytes, percent-encoded (lone surrogates become U+FFFD). */
export function encodeSegment(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A header value Node will put on the wire: the UTF-8 bytes of the text (so non-ASCII arrives as
 * real UTF-8), without the bytes HTTP forbids in a field value (CR, LF, NUL and other controls).
 */
export function headerValue(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
}

const ERROR_KEYS = ['code', 'error', 'message', 'statusCode'];

/** Checks the contract's error body `{statusCode, error, code, message}`; returns it. */
export function expectErrorBody(response: FuzzResponse): { statusCode: number; error: string; code: string; message: string } {
  const type = String(response.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) throw new FuzzFailure(`error response is not JSON (content-type "${type}")`);
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    throw new FuzzFailure('error response body does not parse as JSON');
  }
  return expectErrorShape(body, response.status);
}

/** The error body shape, also used for the `event: error` of a stream (whose HTTP status was 200). */
export function expectErrorShape(body: unknown, status: number | null) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FuzzFailure('error body is not a JSON object');
  const keys = Object.keys(body).sort();
  if (keys.join() !== ERROR_KEYS.join())
    throw new FuzzFailure(`error body keys are [${keys.join(', ')}], not {statusCode, error, code, message}`);
  const { statusCode, error, code, message } = body as Record<string, unknown>;
  if (typeof statusCode !== 'number' || (status !== null && statusCode !== status)) {
    throw new FuzzFailure(`error body statusCode ${String(statusCode)} is not the HTTP status ${String(status)}`);
  }
  if (typeof error !== 'string' || error !== (STATUS_CODES[statusCode] ?? 'Error'))
    throw new FuzzFailure(`error body "error" ${JSON.stringify(error)} does not name status ${statusCode}`);
  if (typeof code !== 'string' || !/^[A-Z][A-Z_]+$/.test(code))
    throw new FuzzFailure(`error body code ${JSON.stringify(code)} is not an error code`);
  if (typeof message !== 'string' || message.length === 0) throw new FuzzFailure('error body message is not a non-empty string');
  return { statusCode, error, code, message };
}

/** The body as a JS string literal when it is UTF-8, else as base64. */
function bodyText(body: Buffer): string {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? JSON.stringify(text) : `base64:${body.toString('base64')}`;
}

function clip(text: string, max = 600): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}

/** The exchange as a minimal reproduction: method, target, headers, body and the answer. */
export function describeExchange(request: FuzzRequest, response?: FuzzResponse): string {
  const body = request.body === undefined ? '(none)' : clip(bodyText(request.body));
  const lines = [
    `request:  ${request.method} ${clip(request.path, 300)}`,
    `headers:  ${clip(JSON.stringify(request.headers), 800)}`,
    `body:     ${body}   [${request.body?.length ?? 0} bytes]`,
  ];
  if (response) {
    lines.push(`response: ${response.status} ${String(response.headers['content-type'] ?? '')} in ${response.ms.toFixed(1)} ms`);
    lines.push(`          ${clip(JSON.stringify(response.text), 800)}`);
  }
  return lines.join('\n');
}

/**
 * The cause the service logged for a request that failed with a 500, for the failure report: the
 * global filter logs `request <X-Request-Id> <METHOD> <path> failed: <Error>: <message>` with its
 * stack; this gives that cause with the top of the stack, read from the test app's kept logs.
 */
export function serverCause(logs: readonly string[], requestId: string | string[] | undefined): string | undefined {
  if (typeof requestId !== 'string') return undefined;
  for (let i = logs.length - 1; i >= 0; i--) {
    const [first, ...stack] = logs[i].split('\n');
    const line = /^ERROR \[HttpExceptionFilter\] request (\S+) \S+ .*? failed: (.*)/.exec(first);
    if (line?.[1] !== requestId) continue;
    const frames = stack
      .filter((frame) => frame.trim().startsWith('at '))
      .slice(0, 3)
      .map((frame) => frame.trim());
    return frames.length > 0 ? `${line[2].trim()} [${frames.join(' ← ')}]` : line[2].trim();
  }
  return undefined;
}
