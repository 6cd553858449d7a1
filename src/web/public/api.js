// The HTTP API as the page uses it: the fetch wrapper, the API key of this tab, the contract's
// error bodies as ApiError, and turns streamed as Server-Sent Events. It knows nothing of the
// page's views: it reports a refused key through onUnauthorized and key changes through onKeyChange.

import { sseParser } from './sse.js';

/** How many times a send waits out 409 IDEMPOTENCY_IN_PROGRESS (its earlier attempt still running). */
const IN_PROGRESS_WAITS = 5;
const KEY_STORAGE = 'gemini-chat.api-key';

export const KEY_NEEDED = 'This service needs an API key. Enter it to continue.';

// ---- The API key of this tab -----------------------------------------------------------------

const credentials = {
  /** From GET /health: 'on' (every API call needs a key), 'off' (open mode), 'unknown' (not read). */
  auth: 'unknown',
  /** The API key of this tab ('' for none). */
  apiKey: '',
};
const keyListeners = new Set();
const unauthorizedListeners = new Set();

// The key is kept in sessionStorage, not localStorage, on purpose: it should not outlive the tab.
// It survives a reload, but closing the tab forgets it, and other tabs never see it.
const keyStore = {
  get() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) ?? '';
    } catch {
      return ''; // storage disabled: the key lives in this page only
    }
  },
  set(key) {
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // As above.
    }
  },
};

export const authMode = () => credentials.auth;
export const hasKey = () => Boolean(credentials.apiKey);

/** True while the service wants a key and this tab has none: no API request is sent then. */
export const needsKey = () => credentials.auth === 'on' && !credentials.apiKey;

/** Takes the key this tab kept over a reload (no listeners are told: the page is starting). */
export function restoreKey() {
  credentials.apiKey = keyStore.get();
}

/** Uses `key` for every request from now on ('' for none), and keeps it for the tab. */
export function setApiKey(key) {
  credentials.apiKey = key;
  keyStore.set(key);
  for (const listener of keyListeners) listener();
}

/** listener() after the key or the auth mode changed. */
export const onKeyChange = (listener) => keyListeners.add(listener);

/** listener(refused) after a 401 dropped the key in use (refused: a key was sent and refused). */
export const onUnauthorized = (listener) => unauthorizedListeners.add(listener);

/** The Authorization header for API calls (none in open mode or without a key). */
function authHeaders() {
  return credentials.apiKey && credentials.auth !== 'off' ? { Authorization: `Bearer ${credentials.apiKey}` } : {};
}

/** A 401: the key is missing or refused. The refused key is dropped; the page waits for another. */
function unauthorized(usedKey) {
  credentials.auth = 'on';
  // A late answer to a request made with an older key says nothing about the current one.
  if (usedKey !== credentials.apiKey) return;
  setApiKey('');
  for (const listener of unauthorizedListeners) listener(Boolean(usedKey));
}

// ---- Errors ----------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    /** Seconds from a Retry-After header, or null. */
    this.retryAfter = retryAfter;
  }
}

/** Refused locally, before any request: the service needs a key this tab does not have. */
const keyMissing = () => new ApiError(401, 'UNAUTHORIZED', KEY_NEEDED);

export const networkError = () => new ApiError(0, 'NETWORK_ERROR', 'The server could not be reached. Check your connection and try again.');

const unreadable = (status) => new ApiError(status, 'BAD_RESPONSE', 'The server sent a reply this page cannot read.');

const interrupted = () =>
  new ApiError(
    0,
    'STREAM_INTERRUPTED',
    'The connection was lost before the reply finished. Retry is safe: if the server finished the reply meanwhile, it is shown without being asked (or paid for) again.',
  );

/** An error body of the contract ({statusCode, error, code, message}) as an ApiError. */
function errorFromBody(status, data, fallbackCode, fallbackMessage, retryAfter = null) {
  const code = typeof data?.code === 'string' ? data.code : fallbackCode;
  const message = typeof data?.message === 'string' ? data.message : fallbackMessage;
  return new ApiError(status, code, message, retryAfter);
}

/** The ApiError of a failed response; a 401 also drops the key that was refused. */
async function failure(response, usedKey) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON (a proxy error page, an empty body): reported by status.
  }
  const error = errorFromBody(
    response.status,
    data,
    `HTTP_${response.status}`,
    response.statusText || 'The request failed.',
    retryAfterOf(response),
  );
  if (response.status === 401) unauthorized(usedKey);
  return error;
}

/** Retry-After in seconds (it may also be an HTTP date), or null. */
function retryAfterOf(response) {
  const value = response.headers.get('retry-after');
  if (!value) return null;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, Math.ceil(seconds)) : null;
}

// ---- Requests --------------------------------------------------------------------------------

/** fetch with this tab's key; resolves to the Response (ok or not), rejects with NETWORK_ERROR. */
async function request(path, { headers = {}, signal, ...init }) {
  if (needsKey()) throw keyMissing();
  const usedKey = credentials.apiKey;
  let response;
  try {
    response = await fetch(path, { ...init, signal, headers: { ...headers, ...authHeaders() } });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw networkError();
  }
  if (!response.ok) throw await failure(response, usedKey);
  return response;
}

/** Calls the API; resolves to the parsed JSON body (null for 204), rejects with an ApiError. */
async function call(method, path, body) {
  const response = await request(path, {
    method,
    headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

const sessionPath = (id) => `sessions/${encodeURIComponent(id)}`;

export const createSession = (userId) => call('POST', 'sessions', { user_id: userId });
/** The Session resource, with its totals (message_count, total_tokens, total_cost_usd). */
export const getSession = (id) => call('GET', sessionPath(id));
export const getHistory = (id) => call('GET', `${sessionPath(id)}/history`);
/** An empty title clears it (the API takes null, not ""). */
export const renameSession = (id, title) => call('PATCH', sessionPath(id), { title: title === '' ? null : title });
export const deleteSession = (id) => call('DELETE', sessionPath(id));
/** Who the key in use acts for: {user_id, role: 'admin' | 'user' | 'open'} (user_id null but for 'user'). */
export const getMe = () => call('GET', 'me');
export const getUsage = (userId) => call('GET', `users/${encodeURIComponent(userId)}/usage`);

/**
 * The body of a turn (and of its estimate): the text and the files attached to it. `attachments`
 * is left out when there are none, so a plain message reads as it always did.
 */
function turnBody(message, fileIds = []) {
  return fileIds.length ? { message, attachments: fileIds.map((id) => ({ file_id: id })) } : { message };
}

/**
 * What sending `message` with the files `fileIds` to the session would take: {prompt_tokens,
 * context_limit, truncated, messages_in_context, input_cost_usd, max_cost_usd}. Nothing is sent to
 * the model as a turn and nothing is stored; 422 CONTEXT_TOO_LONG when the message would be refused.
 */
export const estimateTurn = (id, message, fileIds) => call('POST', `${sessionPath(id)}/estimate`, turnBody(message, fileIds));

// ---- Files -----------------------------------------------------------------------------------

/**
 * Uploads `file` (a File or Blob) for `userId` as `type`: the bytes are the body, the type is the
 * Content-Type (the API takes no multipart and no base64). Resolves to the File resource (also
 * when the user had uploaded these bytes before: the API answers 200 with that file); rejects
 * with the ApiError, e.g. 413 PAYLOAD_TOO_LARGE or STORAGE_QUOTA_EXCEEDED, 415 UNSUPPORTED_MEDIA_TYPE.
 */
export async function uploadFile(userId, file, { name, type, signal }) {
  const query = new URLSearchParams({ user_id: userId, name });
  const response = await request(`files?${query}`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': type },
    body: file,
    signal,
  });
  try {
    return await response.json();
  } catch {
    throw unreadable(response.status);
  }
}

/**
 * The bytes of a stored file as a Blob. Read with this tab's key: an <img src> or a link to the
 * API would be sent without it (and be refused when the service needs a key).
 */
export async function fileContent(fileId) {
  const response = await request(`files/${encodeURIComponent(fileId)}/content`, { method: 'GET' });
  try {
    return await response.blob();
  } catch {
    throw networkError();
  }
}

export function listSessions(userId, limit, after) {
  const query = new URLSearchParams({ user_id: userId, limit: String(limit) });
  if (after) query.set('after', after);
  return call('GET', `sessions?${query}`);
}

/**
 * Reads /health (public: no key needed) and, from it, whether the service needs a key.
 * Resolves to its body, or null when the service cannot be reached.
 */
export async function readHealth() {
  let health = null;
  try {
    const response = await fetch('health', { headers: { Accept: 'application/json' } });
    health = await response.json();
  } catch {
    // Not reachable, or not JSON: the first real request will say what is wrong.
  }
  if (health?.auth === 'on' || health?.auth === 'off') credentials.auth = health.auth;
  return health;
}

// ---- Turns -----------------------------------------------------------------------------------

/** How many times a dropped turn stream is taken up again (Last-Event-ID) before giving up. */
const RESUMES = 3;
/** The wait before taking a dropped stream up again, unless the stream's `retry:` said otherwise. */
const RESUME_MS = 1000;

/**
 * Where a turn's stream got to: its turn id (from the `turn` event) and the id of the last event
 * read, which a dropped stream is taken up again from (Last-Event-ID). `retryMs`: the stream's hint.
 */
const newCursor = (turnId = null) => ({ turnId, lastEventId: null, retryMs: RESUME_MS });

/**
 * Sends one turn asking for Server-Sent Events, under an Idempotency-Key. Calls onTurn(turnId)
 * when the server names the turn and onDelta(text) as the reply arrives, and resolves to {turn,
 * replayed}: the `done` body (the same JSON as the non-streaming 201), and whether the server
 * replayed a turn it had already finished for this key (a replay is always the JSON 201 body,
 * never a stream). A stream that drops once the turn is named is taken up again where it stopped
 * (GET …/turns/:turn_id/events with Last-Event-ID): never a second turn. Rejects with an
 * ApiError: the server's status and JSON body when it failed before any text, the `error`
 * event's body when it failed mid-way, STREAM_INTERRUPTED when the stream could not be finished.
 */
async function streamTurn(sessionId, { message, fileIds }, idempotencyKey, { onDelta, onTurn, signal }) {
  const response = await request(`${sessionPath(sessionId)}/messages`, {
    method: 'POST',
    headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
    body: JSON.stringify(turnBody(message, fileIds)),
    signal,
  });
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (type.includes('text/event-stream') && response.body) {
    const turn = await readToEnd(sessionId, response.body, newCursor(), { onDelta, onTurn, signal });
    return { turn, replayed: false };
  }
  // Answered in one piece (the plain 201 JSON body, e.g. a replay): no deltas, just the result.
  const replayed = response.headers.get('idempotent-replayed') === 'true';
  let turn;
  try {
    turn = await response.json();
  } catch {
    throw unreadable(response.status);
  }
  if (!turn?.user_message || !turn?.model_message) throw unreadable(response.status);
  return { turn, replayed };
}

/**
 * Follows turn `turnId` of the session, running or just finished, from its first event (GET
 * …/turns/:turn_id/events, with this tab's key): onDelta(text) as the reply arrives; resolves to
 * the `done` body. A dropped stream is taken up again with Last-Event-ID. Rejects with an
 * ApiError, e.g. 410 TURN_NOT_RESUMABLE when its events are no longer kept.
 */
export async function followTurn(sessionId, turnId, { onDelta, signal }) {
  const cursor = newCursor(turnId);
  const body = await openTurnEvents(sessionId, cursor, signal);
  return readToEnd(sessionId, body, cursor, { onDelta, signal });
}

/** POST …/turns/:turn_id/cancel: the turn stops; its stream ends with `done` (CANCELLED). */
export const cancelTurn = (sessionId, turnId) => call('POST', `${sessionPath(sessionId)}/turns/${encodeURIComponent(turnId)}/cancel`);

/** GET …/turns/:turn_id/events from after the cursor's last event (all of them without one). */
async function openTurnEvents(sessionId, cursor, signal) {
  const headers = { Accept: 'text/event-stream' };
  if (cursor.lastEventId) headers['Last-Event-ID'] = cursor.lastEventId;
  const response = await request(`${sessionPath(sessionId)}/turns/${encodeURIComponent(cursor.turnId)}/events`, {
    method: 'GET',
    headers,
    signal,
  });
  if (!response.body) throw unreadable(response.status);
  return response.body;
}

/**
 * Reads a turn's events until `done`; when the stream drops (the network, not the server's
 * `error`) after the turn was named, it is re-attached from the last event read, a few times.
 */
async function readToEnd(sessionId, body, cursor, handlers) {
  for (let resumes = 0; ; resumes++) {
    try {
      return await readTurnEvents(body, cursor, handlers);
    } catch (error) {
      if (!droppedStream(error) || !cursor.turnId || resumes >= RESUMES || handlers.signal.aborted) throw error;
    }
    for (;;) {
      await sleep(cursor.retryMs, handlers.signal);
      try {
        body = await openTurnEvents(sessionId, cursor, handlers.signal);
        break;
      } catch (error) {
        if (!droppedStream(error) || ++resumes >= RESUMES || handlers.signal.aborted)
          throw error.code === 'NETWORK_ERROR' ? interrupted() : error;
      }
    }
  }
}

const droppedStream = (error) => error?.code === 'STREAM_INTERRUPTED' || error?.code === 'NETWORK_ERROR';

/**
 * Reads `turn` (onTurn), `delta` (onDelta) events until `done` (resolves to its body) or `error`
 * (rejects); other events are ignored. The cursor follows the events read.
 */
async function readTurnEvents(body, cursor, { onDelta, onTurn, signal }) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = sseParser();
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal.aborted) throw error;
        throw interrupted();
      }
      const text = chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      for (const event of parser.push(text)) {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          throw unreadable(0);
        }
        if (event.event === 'error') {
          throw errorFromBody(Number(data?.statusCode) || 0, data, 'STREAM_ERROR', 'The reply failed.');
        }
        // The turn's own events carry ids; a resumed stream starts after the last one read.
        if (event.id) cursor.lastEventId = event.id;
        if (event.event === 'turn') {
          if (typeof data?.turn_id === 'string' && !cursor.turnId) {
            cursor.turnId = data.turn_id;
            onTurn?.(data.turn_id);
          }
        } else if (event.event === 'delta') {
          if (typeof data?.text === 'string' && data.text !== '') onDelta(data.text);
        } else if (event.event === 'done') {
          return data;
        }
        // Other event types (comments, keep-alives, future additions) are ignored.
      }
      if (parser.retry !== null) cursor.retryMs = Math.min(30_000, parser.retry);
      if (chunk.done) throw interrupted();
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Sends one turn, `{message, fileIds}` (see streamTurn), waiting out 409 IDEMPOTENCY_IN_PROGRESS (an earlier attempt
 * with this key is still running on the server) for Retry-After seconds, a few times, until it
 * answers or replays. options: {signal, onTurn(turnId), onDelta(text), onWait(seconds)}.
 */
export async function sendTurn(sessionId, content, idempotencyKey, options) {
  for (let waits = 0; ; waits++) {
    try {
      return await streamTurn(sessionId, content, idempotencyKey, options);
    } catch (error) {
      if (error?.code !== 'IDEMPOTENCY_IN_PROGRESS' || waits >= IN_PROGRESS_WAITS || options.signal.aborted) throw error;
      const seconds = Math.min(30, Math.max(1, error.retryAfter ?? 1));
      options.onWait?.(seconds);
      await sleep(seconds * 1000, options.signal);
    }
  }
}

/** Resolves after `ms`, or rejects (an AbortError) as soon as `signal` aborts. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new DOMException('Aborted', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    if (signal.aborted) aborted();
    else signal.addEventListener('abort', aborted, { once: true });
  });
}

/** A fresh Idempotency-Key for a new message. */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context (https or localhost); elsewhere 128 random bits do the same.
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
