// The built-in chat page. Plain ES module, no build step, no dependencies.
// Every piece of API data is put on the page as text (textContent), never parsed as HTML.

const STORAGE = { user: 'gemini-chat.user-id', session: 'gemini-chat.session-id', apiKey: 'gemini-chat.api-key' };
const DEFAULT_USER = 'web-user';
const SESSIONS_PAGE = 20;
const SESSIONS_PAGE_MAX = 100;
/** How many times a send waits out 409 IDEMPOTENCY_IN_PROGRESS (its earlier attempt still running). */
const IN_PROGRESS_WAITS = 5;
const THINKING = 'Gemini is thinking…';

const $ = (id) => document.getElementById(id);
const ui = {
  userId: $('user-id'),
  newSession: $('new-session'),
  sessionForm: $('session-form'),
  sessionId: $('session-id'),
  openSession: $('open-session'),
  total: $('session-total'),
  banner: $('offline-banner'),
  error: $('error'),
  notice: $('notice'),
  messages: $('messages'),
  thinking: $('thinking'),
  composer: $('composer'),
  message: $('message'),
  send: $('send'),
  retrySend: $('retry-send'),
  // API key
  keyArea: $('key-area'),
  keyPrompt: $('key-prompt'),
  keyForm: $('key-form'),
  apiKey: $('api-key'),
  saveKey: $('save-key'),
  forgetKey: $('forget-key'),
  keyStatus: $('key-status'),
  // Session list
  sidebar: $('sidebar'),
  sidebarToggle: $('sidebar-toggle'),
  sidebarClose: $('sidebar-close'),
  sidebarBackdrop: $('sidebar-backdrop'),
  listUser: $('session-list-user'),
  list: $('session-list'),
  listStatus: $('session-list-status'),
  more: $('more-sessions'),
  // The open session
  tools: $('session-tools'),
  heading: $('session-heading'),
  title: $('session-title'),
  rename: $('rename-session'),
  renameForm: $('rename-form'),
  renameInput: $('rename-input'),
  renameSave: $('rename-save'),
  renameCancel: $('rename-cancel'),
  remove: $('delete-session'),
  deleteBox: $('delete-box'),
  deleteQuestion: $('delete-question'),
  deleteConfirm: $('delete-confirm'),
  deleteCancel: $('delete-cancel'),
  // Usage
  usageButton: $('usage-button'),
  usagePanel: $('usage-panel'),
  usageUser: $('usage-user'),
  usageRefresh: $('usage-refresh'),
  usageClose: $('usage-close'),
  usageTotalCost: $('usage-total-cost'),
  usageTurns: $('usage-turns'),
  usageTokens: $('usage-tokens'),
  usageDetail: $('usage-detail'),
  usageStatus: $('usage-status'),
  usageTables: $('usage-tables'),
  usageByModel: $('usage-by-model'),
  usageByDay: $('usage-by-day'),
};

const state = {
  sessionId: null,
  /** The open session as the API last described it (title, message_count, …). */
  session: null,
  totalCostUsd: 0,
  totalTokens: 0,
  unpricedTurns: 0,
  busy: false,
  /** Aborts the turn being streamed when another session is opened. */
  turn: null,
  /** A session being opened or made (a promise that never rejects), or null. */
  switching: null,
  list: { userId: null, items: [], nextCursor: null, hasMore: false, seq: 0, loading: false },
  usageSeq: 0,
  /** From GET /health: 'on' (every API call needs a key), 'off' (open mode), 'unknown' (not read). */
  auth: 'unknown',
  /** The API key of this tab ('' for none). */
  apiKey: '',
  /**
   * A send whose outcome is unknown (the connection broke, the server failed or was busy):
   * {text, sessionId, idempotencyKey}. Sending the same text to the same session again reuses
   * its Idempotency-Key, so a turn the server already finished is replayed, not run and billed
   * twice. Any other message gets a new key.
   */
  retry: null,
};

// ---- API key ---------------------------------------------------------------------------------

// The key is kept in sessionStorage, not localStorage, on purpose: it should not outlive the tab.
// It survives a reload, but closing the tab forgets it, and other tabs never see it.
const keyStore = {
  get() {
    try {
      return sessionStorage.getItem(STORAGE.apiKey) ?? '';
    } catch {
      return ''; // storage disabled: the key lives in this page only
    }
  },
  set(key) {
    try {
      if (key) sessionStorage.setItem(STORAGE.apiKey, key);
      else sessionStorage.removeItem(STORAGE.apiKey);
    } catch {
      // As above.
    }
  },
};

/** True while the service wants a key and this tab has none: no API request is sent then. */
const needsKey = () => state.auth === 'on' && !state.apiKey;

const KEY_NEEDED = 'This service needs an API key. Enter it to continue.';

function setApiKey(key) {
  state.apiKey = key;
  keyStore.set(key);
  renderKeyArea();
}

/** The Authorization header for API calls (none in open mode or without a key). */
function authHeaders() {
  return state.apiKey && state.auth !== 'off' ? { Authorization: `Bearer ${state.apiKey}` } : {};
}

function renderKeyArea() {
  ui.keyArea.hidden = state.auth !== 'on';
  ui.forgetKey.hidden = !state.apiKey;
  ui.apiKey.placeholder = state.apiKey ? 'A key is in use (enter another to replace it)' : 'Paste your API key';
  ui.keyStatus.textContent = state.apiKey ? 'A key is in use in this tab. Closing the tab forgets it.' : '';
  if (!needsKey()) ui.keyPrompt.hidden = true;
  else if (ui.keyPrompt.hidden) showKeyPrompt(KEY_NEEDED);
  document.body.dataset.auth = state.auth;
  renderRetry();
}

/** The prompt in the key area (instead of a generic error): the page waits for a key. */
function showKeyPrompt(text, { focus = false } = {}) {
  ui.keyArea.hidden = false;
  ui.keyPrompt.textContent = text;
  ui.keyPrompt.hidden = false;
  if (focus) ui.apiKey.focus();
}

/** A 401: the key is missing or refused. The refused key is dropped; the page waits for another. */
function unauthorized(usedKey) {
  state.auth = 'on';
  // A late answer to a request made with an older key says nothing about the current one.
  if (usedKey !== state.apiKey) return;
  const refused = Boolean(usedKey);
  setApiKey('');
  showKeyPrompt(
    refused
      ? 'The API key was refused (unknown, revoked or mistyped). Enter a valid key to continue.'
      : KEY_NEEDED,
  );
}

function saveKey() {
  const key = ui.apiKey.value.trim();
  if (!key) {
    showKeyPrompt(state.apiKey ? 'Enter a key to replace the one in use.' : KEY_NEEDED, { focus: true });
    return;
  }
  ui.apiKey.value = '';
  setApiKey(key);
  clearError();
  loadData();
}

function forgetKey() {
  setApiKey('');
  ui.apiKey.value = '';
  // What the key showed goes with it (the last session is still remembered for the next key).
  clearView();
  showKeyPrompt('Key forgotten. ' + KEY_NEEDED, { focus: true });
}

// ---- API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    /** Seconds from a Retry-After header, or null. */
    this.retryAfter = retryAfter;
  }
}

/** Refused locally, before any request: the service needs a key this tab does not have. */
const KEY_MISSING = () => new ApiError(401, 'UNAUTHORIZED', KEY_NEEDED);

const NETWORK_ERROR = () =>
  new ApiError(0, 'NETWORK_ERROR', 'The server could not be reached. Check your connection and try again.');

/** The contract's error body of a failed response, as an ApiError. */
async function errorFrom(response) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON (a proxy error page, an empty body): reported by status.
  }
  const code = typeof data?.code === 'string' ? data.code : `HTTP_${response.status}`;
  const message = typeof data?.message === 'string' ? data.message : response.statusText || 'The request failed.';
  return new ApiError(response.status, code, message, retryAfterOf(response));
}

/** Retry-After in seconds (it may also be an HTTP date), or null. */
function retryAfterOf(response) {
  const value = response.headers.get('retry-after');
  if (!value) return null;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, Math.ceil(seconds)) : null;
}

/** The ApiError of a failed response; a 401 also puts the page back to asking for a key. */
async function failure(response, usedKey) {
  const error = await errorFrom(response);
  if (response.status === 401) unauthorized(usedKey);
  return error;
}

/** Calls the API; resolves to the parsed JSON body (null for 204), rejects with an ApiError. */
async function api(method, path, body) {
  if (needsKey()) throw KEY_MISSING();
  const usedKey = state.apiKey;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...authHeaders(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw NETWORK_ERROR();
  }
  if (!response.ok) throw await failure(response, usedKey);
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

const sessionPath = (id) => `sessions/${encodeURIComponent(id)}`;

/**
 * Sends one turn asking for Server-Sent Events, under an Idempotency-Key. Calls onDelta(text) as
 * the reply arrives and resolves to {turn, replayed}: the `done` body (the same JSON as the
 * non-streaming 201), and whether the server replayed a turn it had already finished for this key
 * (a replay is always the JSON 201 body, never a stream). Rejects with an ApiError: the server's
 * status and JSON body when it failed before any text, the `error` event's body when it failed
 * mid-way, STREAM_INTERRUPTED when the stream ended without `done`.
 */
async function streamTurn(sessionId, message, idempotencyKey, { onDelta, signal }) {
  if (needsKey()) throw KEY_MISSING();
  const usedKey = state.apiKey;
  let response;
  try {
    response = await fetch(`${sessionPath(sessionId)}/messages`, {
      method: 'POST',
      headers: {
        Accept: 'text/event-stream',
        'Content-Type': 'application/json',
        'Idempotency-Key': idempotencyKey,
        ...authHeaders(),
      },
      body: JSON.stringify({ message }),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    throw NETWORK_ERROR();
  }
  if (!response.ok) throw await failure(response, usedKey);
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (!type.includes('text/event-stream') || !response.body) {
    // Answered in one piece (the plain 201 JSON body, e.g. a replay): no deltas, just the result.
    const replayed = response.headers.get('idempotent-replayed') === 'true';
    let turn;
    try {
      turn = await response.json();
    } catch {
      throw new ApiError(response.status, 'BAD_RESPONSE', 'The server sent a reply this page cannot read.');
    }
    if (!turn?.user_message || !turn?.model_message) {
      throw new ApiError(response.status, 'BAD_RESPONSE', 'The server sent a reply this page cannot read.');
    }
    return { turn, replayed };
  }

  const reader = response.body.getReader();
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
          throw new ApiError(0, 'BAD_RESPONSE', 'The server sent a reply this page cannot read.');
        }
        if (event.event === 'delta') {
          if (typeof data?.text === 'string' && data.text !== '') onDelta(data.text);
        } else if (event.event === 'done') {
          return { turn: data, replayed: false };
        } else if (event.event === 'error') {
          throw new ApiError(
            Number(data?.statusCode) || 0,
            typeof data?.code === 'string' ? data.code : 'STREAM_ERROR',
            typeof data?.message === 'string' ? data.message : 'The reply failed.',
          );
        }
        // Other event types (comments, keep-alives, future additions) are ignored.
      }
      if (chunk.done) throw interrupted();
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

const interrupted = () =>
  new ApiError(
    0,
    'STREAM_INTERRUPTED',
    'The connection was lost before the reply finished. Retry is safe: if the server finished the reply meanwhile, it is shown without being asked (or paid for) again.',
  );

/**
 * streamTurn, waiting out 409 IDEMPOTENCY_IN_PROGRESS (an earlier attempt with this key is still
 * running on the server) for Retry-After seconds, a few times, until it answers or replays.
 */
async function sendTurn(sessionId, message, idempotencyKey, options) {
  for (let waits = 0; ; waits++) {
    try {
      return await streamTurn(sessionId, message, idempotencyKey, options);
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
function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context (https or localhost); elsewhere 128 random bits do the same.
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * An incremental text/event-stream parser (the parts of the HTML spec this page needs):
 * push(text) returns the events completed by that text, each as {event, data}.
 */
function sseParser() {
  let buffer = '';
  let eventName = '';
  let dataLines = [];
  return {
    push(text) {
      buffer += text;
      const events = [];
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (dataLines.length) events.push({ event: eventName || 'message', data: dataLines.join('\n') });
          eventName = '';
          dataLines = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') eventName = value;
        else if (field === 'data') dataLines.push(value);
      }
      return events;
    },
  };
}

// ---- Formatting ------------------------------------------------------------------------------

/** Dollars with every significant digit down to the nano-dollar: 0.0003568 → "$0.0003568". */
function formatUsd(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '$0.00';
  let text = value.toFixed(9).replace(/0+$/, '');
  const decimals = text.length - text.indexOf('.') - 1;
  if (decimals < 2) text = value.toFixed(2);
  return `$${text}`;
}

const count = (n) => (Number(n) || 0).toLocaleString('en-US');
const plural = (n, word) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

/** "148 tokens (6 in, 44 out, 98 thinking) · $0.0003568" */
function formatMeta(message) {
  const u = message.usage ?? {};
  const parts = [`${u.prompt_tokens ?? 0} in`];
  if (u.cached_tokens) parts.push(`${u.cached_tokens} cached`);
  parts.push(`${u.output_tokens ?? 0} out`);
  if (u.thoughts_tokens) parts.push(`${u.thoughts_tokens} thinking`);
  if (u.tool_prompt_tokens) parts.push(`${u.tool_prompt_tokens} tool`);
  const cost = message.cost_status === 'unpriced' || message.cost_usd == null ? 'unpriced' : formatUsd(message.cost_usd);
  let meta = `${plural(u.total_tokens ?? 0, 'token')} (${parts.join(', ')}) · ${cost}`;
  if (message.finish_reason && message.finish_reason !== 'STOP') meta += ` · stopped: ${message.finish_reason}`;
  return meta;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const yearFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** "14:05" today, "Nov 21, 14:05" this year, "Nov 21, 2025" before. */
function formatWhen(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return timeFormat.format(date);
  if (date.getFullYear() === now.getFullYear()) return `${dateFormat.format(date)}, ${timeFormat.format(date)}`;
  return yearFormat.format(date);
}

const titleOf = (session) => (session?.title ? session.title : 'Untitled');

// ---- Rendering -------------------------------------------------------------------------------

/** Adds a message to the list and returns its element; renderReply can update it in place later. */
function appendMessage(message) {
  const item = document.createElement('li');
  item.className = `message ${message.role}`;
  item.dataset.role = message.role;
  const text = document.createElement('div');
  text.className = message.role === 'model' ? 'reply-text' : 'message-text';
  item.append(text);
  if (message.role === 'model') {
    const meta = document.createElement('div');
    meta.className = 'reply-meta';
    item.append(meta);
  }
  ui.messages.append(item);
  renderReply(item, message);
  return item;
}

/**
 * (Re)draws a message element from a Message: the text, and for model replies the usage line once
 * usage is known.
 */
function renderReply(item, message) {
  item.querySelector('.reply-text, .message-text').textContent = message.content ?? '';
  const meta = item.querySelector('.reply-meta');
  if (meta) {
    meta.textContent = message.usage ? formatMeta(message) : '';
    if (message.model) meta.title = `Model: ${message.model}`;
  }
  if (message.id !== undefined) item.dataset.id = String(message.id);
  item.scrollIntoView({ block: 'end' });
}

/** True when the page is scrolled (nearly) to the bottom: streaming then keeps it there. */
function atBottom() {
  const root = document.scrollingElement ?? document.documentElement;
  return root.scrollHeight - root.scrollTop - root.clientHeight < 120;
}

function renderTotal() {
  if (!state.sessionId) {
    ui.total.textContent = 'No session';
    return;
  }
  let text = `Session total: ${formatUsd(state.totalCostUsd)} · ${plural(state.totalTokens, 'token')}`;
  if (state.unpricedTurns) text += ` (+ ${state.unpricedTurns} unpriced)`;
  ui.total.textContent = text;
}

/** The title bar of the open session, with its Rename and Delete actions. */
function renderSessionTools() {
  const open = Boolean(state.sessionId);
  ui.tools.hidden = !open;
  if (!open) {
    closeRename();
    closeDelete();
    return;
  }
  ui.title.textContent = titleOf(state.session);
  ui.title.classList.toggle('untitled', !state.session?.title);
  ui.title.title = state.session?.title ?? '';
}

function showError(error) {
  // A missing or refused key is said in the key area, not as an error.
  if (error?.status === 401 && state.auth !== 'off') {
    clearError();
    if (needsKey()) showKeyPrompt(ui.keyPrompt.hidden ? KEY_NEEDED : ui.keyPrompt.textContent, { focus: true });
    return;
  }
  const code = error?.code ?? 'ERROR';
  let message = error?.message ?? String(error);
  if (error?.retryAfter && (error.status === 429 || error.status === 503) && !/try again in/i.test(message)) {
    message += ` Try again in ${formatWait(error.retryAfter)}.`;
  }
  ui.error.textContent = `${code}: ${message}`;
  ui.error.hidden = false;
}

/** 42 → "42 s", 150 → "3 min", 7200 → "2 h" */
function formatWait(seconds) {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function clearError() {
  ui.error.textContent = '';
  ui.error.hidden = true;
}

let noticeTimer = 0;
function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    ui.notice.hidden = true;
  }, 4000);
}

function setBusy(busy) {
  state.busy = busy;
  ui.send.disabled = busy;
  ui.thinking.hidden = !busy;
  ui.thinking.textContent = THINKING;
  renderRetry();
}

/** The Retry button: shown while a send of unknown outcome can be sent again with its key. */
function renderRetry() {
  ui.retrySend.hidden = !state.retry || state.busy || needsKey();
}

function dropRetry() {
  state.retry = null;
  renderRetry();
}

// ---- Sessions --------------------------------------------------------------------------------

function stopTurn() {
  state.turn?.abort();
  state.turn = null;
}

function useSession(session, messages) {
  stopTurn();
  dropRetry();
  state.sessionId = session.session_id;
  state.session = session;
  state.totalCostUsd = session.total_cost_usd ?? 0;
  state.totalTokens = session.total_tokens ?? 0;
  state.unpricedTurns = messages.filter((m) => m.role === 'model' && m.cost_status === 'unpriced').length;
  ui.sessionId.value = session.session_id;
  localStorage.setItem(STORAGE.session, session.session_id);
  ui.messages.replaceChildren();
  for (const message of messages) appendMessage(message);
  closeRename();
  closeDelete();
  renderTotal();
  renderSessionTools();
  markCurrentInList();
}

function forgetSession() {
  stopTurn();
  dropRetry();
  state.sessionId = null;
  state.session = null;
  localStorage.removeItem(STORAGE.session);
  ui.sessionId.value = '';
  ui.messages.replaceChildren();
  renderTotal();
  renderSessionTools();
  markCurrentInList();
}

/**
 * Empties the page of everything the API showed (the key is gone), but remembers the last
 * session so that the next key reopens it.
 */
function clearView() {
  stopTurn();
  dropRetry();
  state.sessionId = null;
  state.session = null;
  ui.sessionId.value = '';
  ui.messages.replaceChildren();
  closeRename();
  closeDelete();
  const list = state.list;
  list.seq++;
  list.userId = null;
  list.items = [];
  list.hasMore = false;
  list.nextCursor = null;
  list.loading = false;
  ui.list.replaceChildren();
  renderMore();
  setListStatus('');
  state.usageSeq++;
  delete ui.usageStatus.dataset.user;
  renderUsage(null, '');
  renderTotal();
  renderSessionTools();
}

function currentUserId() {
  const userId = ui.userId.value.trim() || DEFAULT_USER;
  localStorage.setItem(STORAGE.user, userId);
  return userId;
}

/**
 * Remembers a session being opened or made, so a message sent meanwhile goes to that session
 * rather than to the one on the way out.
 */
function switching(promise) {
  state.switching = promise;
  promise.finally(() => {
    if (state.switching === promise) state.switching = null;
  });
  return promise;
}

function newSession() {
  return switching(makeSession());
}

async function makeSession() {
  clearError();
  try {
    const session = await api('POST', 'sessions', { user_id: currentUserId() });
    useSession(session, []);
    refreshSessions();
    ui.message.focus();
    return session;
  } catch (error) {
    showError(error);
    return null;
  }
}

/** Opens a session with its history. `quiet`: a missing session is forgotten without a word. */
function openSession(id, options) {
  return switching(loadSession(id, options));
}

async function loadSession(id, { quiet = false } = {}) {
  clearError();
  try {
    const [session, history] = await Promise.all([api('GET', sessionPath(id)), api('GET', `${sessionPath(id)}/history`)]);
    useSession(session, history.messages ?? []);
  } catch (error) {
    if (quiet && error.status === 404) forgetSession();
    else showError(error);
  }
}

/** Re-reads the open session (title, counts) after something changed it. */
async function reloadSessionInfo(id) {
  try {
    const session = await api('GET', sessionPath(id));
    if (state.sessionId !== id) return;
    state.session = session;
    renderSessionTools();
  } catch {
    // Only the title bar would be stale; the next action shows any real problem.
  }
}

// ---- Session list ----------------------------------------------------------------------------

function listPath(userId, limit, after) {
  const query = new URLSearchParams({ user_id: userId, limit: String(limit) });
  if (after) query.set('after', after);
  return `sessions?${query}`;
}

/**
 * Loads the list again from the top for the current user id, as many entries as are shown now
 * (so "More" pages already opened stay open).
 */
async function refreshSessions() {
  const userId = currentUserId();
  const list = state.list;
  const sameUser = list.userId === userId;
  const limit = sameUser ? Math.min(SESSIONS_PAGE_MAX, Math.max(SESSIONS_PAGE, list.items.length)) : SESSIONS_PAGE;
  const seq = ++list.seq;
  if (!sameUser) {
    list.userId = userId;
    list.items = [];
    list.hasMore = false;
    list.nextCursor = null;
    ui.list.replaceChildren();
  }
  ui.listUser.textContent = `of ${userId}`;
  setListStatus(list.items.length ? '' : 'Loading…');
  list.loading = true;
  renderMore();
  try {
    const page = await api('GET', listPath(userId, limit));
    if (seq !== list.seq) return;
    list.items = page?.data ?? [];
    list.hasMore = Boolean(page?.has_more);
    list.nextCursor = page?.next_cursor ?? null;
    renderSessionList();
  } catch (error) {
    if (seq !== list.seq) return;
    if (error.status === 401) setListStatus('Enter the API key to see the sessions.');
    else setListStatus(`Could not load the sessions: ${error.message}`, true);
  } finally {
    if (seq === list.seq) {
      list.loading = false;
      renderMore();
    }
  }
}

async function loadMoreSessions() {
  const list = state.list;
  if (!list.hasMore || !list.nextCursor || list.loading) return;
  const seq = list.seq;
  list.loading = true;
  renderMore();
  try {
    const page = await api('GET', listPath(list.userId, SESSIONS_PAGE, list.nextCursor));
    if (seq !== list.seq) return;
    const known = new Set(list.items.map((s) => s.session_id));
    list.items.push(...(page?.data ?? []).filter((s) => !known.has(s.session_id)));
    list.hasMore = Boolean(page?.has_more);
    list.nextCursor = page?.next_cursor ?? null;
    renderSessionList();
  } catch (error) {
    if (seq === list.seq) setListStatus(`Could not load more sessions: ${error.message}`, true);
  } finally {
    if (seq === list.seq) {
      list.loading = false;
      renderMore();
    }
  }
}

function setListStatus(text, isError = false) {
  ui.listStatus.textContent = text;
  ui.listStatus.hidden = text === '';
  ui.listStatus.classList.toggle('is-error', isError);
}

function renderMore() {
  ui.more.hidden = !state.list.hasMore;
  ui.more.disabled = state.list.loading;
  if (state.list.loading) ui.list.setAttribute('aria-busy', 'true');
  else ui.list.removeAttribute('aria-busy');
}

function renderSessionList() {
  const items = state.list.items.map((session) => {
    const item = document.createElement('li');
    item.className = 'session-item';
    item.dataset.sessionId = session.session_id;

    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'session-open';

    const title = document.createElement('span');
    title.className = 'session-name';
    title.textContent = titleOf(session);
    title.classList.toggle('untitled', !session.title);

    const meta = document.createElement('span');
    meta.className = 'session-meta';
    const when = document.createElement('time');
    when.dateTime = session.updated_at;
    when.textContent = formatWhen(session.updated_at);
    when.title = `Updated ${fullFormat.format(new Date(session.updated_at))}`;
    const cost = document.createElement('span');
    cost.className = 'session-cost';
    cost.textContent = formatUsd(session.total_cost_usd);
    cost.title = plural(session.message_count ?? 0, 'message');
    meta.append(when, cost);

    button.append(title, meta);
    item.append(button);
    return item;
  });
  ui.list.replaceChildren(...items);
  setListStatus(items.length ? '' : 'No sessions yet.');
  markCurrentInList();
  // The list is fresher than what the page knew about the open session (its title, counts).
  const open = state.list.items.find((session) => session.session_id === state.sessionId);
  if (open) {
    state.session = open;
    renderSessionTools();
  }
}

function markCurrentInList() {
  for (const item of ui.list.children) {
    const current = item.dataset.sessionId === state.sessionId;
    item.classList.toggle('current', current);
    const button = item.querySelector('button');
    if (current) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }
}

const narrow = window.matchMedia('(max-width: 760px)');

function setSidebarOpen(open) {
  ui.sidebar.classList.toggle('open', open);
  ui.sidebarBackdrop.hidden = !open || !narrow.matches;
  ui.sidebarToggle.setAttribute('aria-expanded', String(open));
  if (open && narrow.matches) ui.sidebar.querySelector('button.session-open, #sidebar-close')?.focus();
}

// ---- Rename and delete -----------------------------------------------------------------------

function openRename() {
  if (!state.sessionId) return;
  closeDelete();
  ui.renameInput.value = state.session?.title ?? '';
  ui.heading.hidden = true;
  ui.renameForm.hidden = false;
  ui.renameInput.focus();
  ui.renameInput.select();
}

function closeRename() {
  ui.renameForm.hidden = true;
  ui.heading.hidden = false;
  ui.renameSave.disabled = false;
}

async function saveRename() {
  const id = state.sessionId;
  if (!id) return;
  const typed = ui.renameInput.value.replace(/\s+/g, ' ').trim();
  clearError();
  ui.renameSave.disabled = true;
  try {
    // An empty title clears it (the API takes null, not "").
    const session = await api('PATCH', sessionPath(id), { title: typed === '' ? null : typed });
    if (state.sessionId === id) {
      state.session = session;
      closeRename();
      renderSessionTools();
      ui.rename.focus();
    }
    refreshSessions();
  } catch (error) {
    showError(error);
  } finally {
    ui.renameSave.disabled = false;
  }
}

function openDelete() {
  if (!state.sessionId) return;
  closeRename();
  const messages = state.session?.message_count ?? 0;
  ui.deleteQuestion.textContent =
    `Delete “${titleOf(state.session)}”` +
    (messages ? ` and its ${plural(messages, 'message')}` : '') +
    '? This cannot be undone.';
  ui.deleteBox.hidden = false;
  ui.remove.disabled = true;
  ui.deleteCancel.focus();
}

function closeDelete() {
  ui.deleteBox.hidden = true;
  ui.remove.disabled = false;
  ui.deleteConfirm.disabled = false;
}

async function confirmDelete() {
  const id = state.sessionId;
  if (!id) return;
  const title = titleOf(state.session);
  clearError();
  ui.deleteConfirm.disabled = true;
  try {
    await api('DELETE', sessionPath(id));
  } catch (error) {
    // Already gone is what was asked for.
    if (error.status !== 404) {
      ui.deleteConfirm.disabled = false;
      showError(error);
      return;
    }
  }
  if (state.sessionId === id) forgetSession();
  showNotice(`Deleted “${title}”.`);
  refreshSessions();
  refreshUsage();
}

// ---- Usage -----------------------------------------------------------------------------------

function setUsageOpen(open) {
  ui.usagePanel.hidden = !open;
  ui.usageButton.setAttribute('aria-expanded', String(open));
  if (open) refreshUsage();
}

/** Loads the usage report of the current user into the panel (when it is open). */
async function refreshUsage() {
  if (ui.usagePanel.hidden) return;
  const userId = currentUserId();
  const seq = ++state.usageSeq;
  ui.usageUser.textContent = userId;
  ui.usagePanel.setAttribute('aria-busy', 'true');
  if (ui.usageStatus.dataset.user !== userId) renderUsage(null, 'Loading…');
  try {
    const report = await api('GET', `users/${encodeURIComponent(userId)}/usage`);
    if (seq !== state.usageSeq) return;
    renderUsage(report, report?.turns ? '' : 'No usage yet.');
  } catch (error) {
    if (seq !== state.usageSeq) return;
    if (error.status === 404) renderUsage(null, 'No usage yet.');
    else if (error.status === 401) renderUsage(null, 'Enter the API key to see the usage.');
    else renderUsage(null, `Could not load the usage: ${error.message}`);
  } finally {
    if (seq === state.usageSeq) {
      ui.usageStatus.dataset.user = userId;
      ui.usagePanel.removeAttribute('aria-busy');
    }
  }
}

function renderUsage(report, status) {
  ui.usageTotalCost.textContent = formatUsd(report?.total_cost_usd ?? 0);
  ui.usageTurns.textContent = count(report?.turns ?? 0);
  ui.usageTokens.textContent = count(report?.total_tokens ?? 0);
  ui.usageStatus.textContent = status;
  ui.usageStatus.hidden = status === '';
  if (!report || !report.turns) {
    ui.usageDetail.textContent = '';
    ui.usageTables.hidden = true;
    return;
  }
  const parts = [`${count(report.prompt_tokens)} in`];
  if (report.cached_tokens) parts.push(`${count(report.cached_tokens)} cached`);
  parts.push(`${count(report.output_tokens)} out`);
  if (report.thoughts_tokens) parts.push(`${count(report.thoughts_tokens)} thinking`);
  let detail = `Tokens: ${parts.join(', ')}. All time.`;
  if (report.unpriced_turns) detail += ` ${plural(report.unpriced_turns, 'turn')} had no known price and are not in the cost.`;
  ui.usageDetail.textContent = detail;
  fillUsageTable(ui.usageByModel, report.by_model ?? [], (row) => row.model);
  // The API lists days oldest first; the most recent day is the interesting one.
  fillUsageTable(ui.usageByDay, [...(report.by_day ?? [])].reverse(), (row) => row.day);
  ui.usageTables.hidden = false;
}

function fillUsageTable(table, rows, label) {
  const body = table.tBodies[0];
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = label(row);
      const cost = row.unpriced_turns && !row.total_cost_usd ? 'unpriced' : formatUsd(row.total_cost_usd);
      const cells = [count(row.turns), count(row.total_tokens), cost].map((text) => {
        const td = document.createElement('td');
        td.textContent = text;
        return td;
      });
      tr.append(name, ...cells);
      return tr;
    }),
  );
}

// ---- Sending ---------------------------------------------------------------------------------

/**
 * Sends the message in the box (or, with `retry`, the message of the failed attempt offered for
 * retry). Every attempt carries an Idempotency-Key; the same text to the same session right after
 * an attempt of unknown outcome reuses that attempt's key.
 */
async function send({ retry = false } = {}) {
  if (state.busy) return;
  if (needsKey()) {
    showKeyPrompt(ui.keyPrompt.textContent || KEY_NEEDED, { focus: true });
    return;
  }
  const offered = state.retry;
  const text = retry && offered ? offered.text : ui.message.value;
  if (text.trim() === '') return;
  clearError();
  setBusy(true);
  let pending = null;
  let reply = null;
  let controller = null;
  let attempt = null;
  try {
    await state.switching;
    if (!state.sessionId && !(await newSession())) return;
    const sessionId = state.sessionId;
    attempt =
      offered && offered.text === text && offered.sessionId === sessionId
        ? offered
        : { text, sessionId, idempotencyKey: newIdempotencyKey() };
    state.retry = null;
    const firstTurn = !state.session?.title;
    pending = appendMessage({ role: 'user', content: text });
    pending.classList.add('pending');
    controller = new AbortController();
    state.turn = controller;
    let streamed = '';
    const { turn, replayed } = await sendTurn(sessionId, text, attempt.idempotencyKey, {
      signal: controller.signal,
      onWait: () => {
        ui.thinking.textContent = 'The earlier attempt of this message is still running on the server; waiting for its reply…';
      },
      onDelta: (delta) => {
        if (controller.signal.aborted) return;
        const follow = atBottom();
        if (!reply) {
          reply = appendMessage({ role: 'model', content: '' });
          reply.dataset.streaming = 'true';
          reply.setAttribute('aria-busy', 'true');
          ui.thinking.hidden = true;
        }
        streamed += delta;
        reply.querySelector('.reply-text').textContent = streamed;
        if (follow) reply.scrollIntoView({ block: 'end' });
      },
    });
    if (controller.signal.aborted || state.sessionId !== sessionId) return; // another session was opened
    renderReply(pending, turn.user_message);
    pending.classList.remove('pending');
    pending = null;
    if (!reply) reply = appendMessage(turn.model_message);
    else renderReply(reply, turn.model_message);
    delete reply.dataset.streaming;
    reply.removeAttribute('aria-busy');
    if (replayed) reply.dataset.replayed = 'true';
    reply = null;
    if (ui.message.value === text) ui.message.value = '';
    if (replayed) showNotice('The server had already finished this reply: it is shown now, not asked for or paid for again.');
    state.totalCostUsd = turn.session_total_cost_usd ?? state.totalCostUsd;
    state.totalTokens += turn.model_message.usage?.total_tokens ?? 0;
    if (turn.model_message.cost_status === 'unpriced') state.unpricedTurns += 1;
    if (state.session) state.session.message_count = (state.session.message_count ?? 0) + 2;
    renderTotal();
    // The first turn names an untitled session; the turn body does not say how.
    if (firstTurn) reloadSessionInfo(sessionId);
    refreshSessions();
    refreshUsage();
  } catch (error) {
    // Nothing was stored, or it is not known yet: take the message (and any partial reply) back
    // off the list; the text stays in the box.
    pending?.remove();
    reply?.remove();
    if (controller?.signal.aborted) return;
    // When the outcome is unknown (the connection broke), or the server failed, was busy or
    // refused the key, the same message may be sent again with the same key: the server replays
    // what it finished and runs again what it did not. A definite answer (400, 404, 422…) is final.
    if (attempt && state.sessionId === attempt.sessionId && mayRetry(error)) state.retry = attempt;
    showError(error);
  } finally {
    if (state.turn === controller) state.turn = null;
    setBusy(false);
    if (!needsKey()) ui.message.focus();
  }
}

function mayRetry(error) {
  const status = error?.status ?? 0;
  return status === 0 || status >= 500 || status === 401 || status === 429 || error?.code === 'IDEMPOTENCY_IN_PROGRESS';
}

// ---- Wiring ----------------------------------------------------------------------------------

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
ui.retrySend.addEventListener('click', () => send({ retry: true }));
// An edited message is a new message: it gets a new Idempotency-Key.
ui.message.addEventListener('input', () => {
  if (state.retry && ui.message.value !== state.retry.text) dropRetry();
});
ui.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  saveKey();
});
ui.forgetKey.addEventListener('click', () => forgetKey());
ui.message.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
ui.newSession.addEventListener('click', () => newSession());
ui.sessionForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const id = ui.sessionId.value.trim();
  if (id) openSession(id);
});
ui.userId.addEventListener('change', () => {
  refreshSessions();
  refreshUsage();
});

ui.list.addEventListener('click', (event) => {
  const item = event.target.closest('.session-item');
  if (!item) return;
  if (narrow.matches) setSidebarOpen(false);
  // The open one is already shown (reopening it would also stop a reply being streamed).
  if (item.dataset.sessionId !== state.sessionId) openSession(item.dataset.sessionId);
});
ui.more.addEventListener('click', () => loadMoreSessions());
ui.sidebarToggle.addEventListener('click', () => setSidebarOpen(!ui.sidebar.classList.contains('open')));
ui.sidebarClose.addEventListener('click', () => {
  setSidebarOpen(false);
  ui.sidebarToggle.focus();
});
ui.sidebarBackdrop.addEventListener('click', () => setSidebarOpen(false));
narrow.addEventListener('change', () => setSidebarOpen(false));

ui.rename.addEventListener('click', () => openRename());
ui.renameForm.addEventListener('submit', (event) => {
  event.preventDefault();
  saveRename();
});
ui.renameCancel.addEventListener('click', () => {
  closeRename();
  ui.rename.focus();
});
ui.renameInput.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    event.preventDefault();
    closeRename();
    ui.rename.focus();
  }
});
ui.remove.addEventListener('click', () => openDelete());
ui.deleteConfirm.addEventListener('click', () => confirmDelete());
ui.deleteCancel.addEventListener('click', () => {
  closeDelete();
  ui.remove.focus();
});

ui.usageButton.addEventListener('click', () => setUsageOpen(ui.usagePanel.hidden));
ui.usageClose.addEventListener('click', () => {
  setUsageOpen(false);
  ui.usageButton.focus();
});
ui.usageRefresh.addEventListener('click', () => refreshUsage());

document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  if (ui.sidebar.classList.contains('open') && narrow.matches) {
    setSidebarOpen(false);
    ui.sidebarToggle.focus();
  } else if (!ui.deleteBox.hidden) {
    closeDelete();
    ui.remove.focus();
  }
});

/** Reads /health (public: no key needed): the offline banner, and whether a key is needed. */
async function readHealth() {
  let health = null;
  try {
    const response = await fetch('health', { headers: { Accept: 'application/json' } });
    health = await response.json();
  } catch {
    // Not reachable, or not JSON: the first real request will say what is wrong.
  }
  if (!health) {
    showError(NETWORK_ERROR());
    return;
  }
  ui.banner.hidden = health.gemini !== 'emulator';
  document.body.dataset.gemini = String(health.gemini);
  if (health.auth === 'on' || health.auth === 'off') state.auth = health.auth;
}

/** Loads what the page shows from the API: the session list, the last session, the usage. */
async function loadData() {
  const listed = refreshSessions();
  const last = localStorage.getItem(STORAGE.session);
  if (last && !state.sessionId) await openSession(last, { quiet: true });
  await listed;
  refreshUsage();
}

async function start() {
  ui.userId.value = localStorage.getItem(STORAGE.user) || DEFAULT_USER;
  state.apiKey = keyStore.get();
  renderTotal();
  renderSessionTools();
  await readHealth();
  renderKeyArea();
  // Without a key nothing else is asked for: the key area says what is needed.
  if (needsKey()) ui.apiKey.focus();
  else await loadData();
  document.body.dataset.ready = 'true';
}

start();
