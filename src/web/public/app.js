// The built-in chat page. Plain ES module, no build step, no dependencies.
// Every piece of API data is put on the page as text (textContent), never parsed as HTML.

const STORAGE = { user: 'gemini-chat.user-id', session: 'gemini-chat.session-id' };
const DEFAULT_USER = 'web-user';

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
  messages: $('messages'),
  thinking: $('thinking'),
  composer: $('composer'),
  message: $('message'),
  send: $('send'),
};

const state = {
  sessionId: null,
  totalCostUsd: 0,
  totalTokens: 0,
  unpricedTurns: 0,
  busy: false,
};

// ---- API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; resolves to the parsed JSON body, rejects with an ApiError. */
async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'The server could not be reached. Check your connection and try again.');
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON (a proxy error page, an empty body): reported below by status.
  }
  if (!response.ok) {
    const code = typeof data?.code === 'string' ? data.code : `HTTP_${response.status}`;
    const message = typeof data?.message === 'string' ? data.message : response.statusText || 'The request failed.';
    throw new ApiError(response.status, code, message);
  }
  return data;
}

const sessionPath = (id) => `sessions/${encodeURIComponent(id)}`;

// ---- Formatting ------------------------------------------------------------------------------

/** Dollars with every significant digit down to the nano-dollar: 0.0003568 → "$0.0003568". */
function formatUsd(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '$0.00';
  let text = value.toFixed(9).replace(/0+$/, '');
  const decimals = text.length - text.indexOf('.') - 1;
  if (decimals < 2) text = value.toFixed(2);
  return `$${text}`;
}

const plural = (n, word) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

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
 * usage is known. Streaming can call this with growing `content` and usage only at the end.
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

function renderTotal() {
  if (!state.sessionId) {
    ui.total.textContent = 'No session';
    return;
  }
  let text = `Session total: ${formatUsd(state.totalCostUsd)} · ${plural(state.totalTokens, 'token')}`;
  if (state.unpricedTurns) text += ` (+ ${state.unpricedTurns} unpriced)`;
  ui.total.textContent = text;
}

function showError(error) {
  const code = error?.code ?? 'ERROR';
  const message = error?.message ?? String(error);
  ui.error.textContent = `${code}: ${message}`;
  ui.error.hidden = false;
}

function clearError() {
  ui.error.textContent = '';
  ui.error.hidden = true;
}

function setBusy(busy) {
  state.busy = busy;
  ui.send.disabled = busy;
  ui.thinking.hidden = !busy;
}

// ---- Sessions --------------------------------------------------------------------------------

function useSession(session, messages) {
  state.sessionId = session.session_id;
  state.totalCostUsd = session.total_cost_usd ?? 0;
  state.totalTokens = session.total_tokens ?? 0;
  state.unpricedTurns = messages.filter((m) => m.role === 'model' && m.cost_status === 'unpriced').length;
  ui.sessionId.value = session.session_id;
  localStorage.setItem(STORAGE.session, session.session_id);
  ui.messages.replaceChildren();
  for (const message of messages) appendMessage(message);
  renderTotal();
}

function forgetSession() {
  state.sessionId = null;
  localStorage.removeItem(STORAGE.session);
  ui.messages.replaceChildren();
  renderTotal();
}

function currentUserId() {
  const userId = ui.userId.value.trim() || DEFAULT_USER;
  localStorage.setItem(STORAGE.user, userId);
  return userId;
}

async function newSession() {
  clearError();
  try {
    const session = await api('POST', 'sessions', { user_id: currentUserId() });
    useSession(session, []);
    ui.message.focus();
    return session;
  } catch (error) {
    showError(error);
    return null;
  }
}

/** Opens a session with its history. `quiet`: a missing session is forgotten without a word. */
async function openSession(id, { quiet = false } = {}) {
  clearError();
  try {
    const session = await api('GET', sessionPath(id));
    const history = await api('GET', `${sessionPath(id)}/history`);
    useSession(session, history.messages ?? []);
  } catch (error) {
    if (quiet && error.status === 404) forgetSession();
    else showError(error);
  }
}

// ---- Sending ---------------------------------------------------------------------------------

async function send() {
  const text = ui.message.value;
  if (state.busy || text.trim() === '') return;
  clearError();
  setBusy(true);
  let pending = null;
  try {
    if (!state.sessionId && !(await newSession())) return;
    const sessionId = state.sessionId;
    pending = appendMessage({ role: 'user', content: text });
    pending.classList.add('pending');
    const turn = await api('POST', `${sessionPath(sessionId)}/messages`, { message: text });
    if (state.sessionId !== sessionId) return; // another session was opened meanwhile
    renderReply(pending, turn.user_message);
    pending.classList.remove('pending');
    pending = null;
    appendMessage(turn.model_message);
    if (ui.message.value === text) ui.message.value = '';
    state.totalCostUsd = turn.session_total_cost_usd ?? state.totalCostUsd;
    state.totalTokens += turn.model_message.usage?.total_tokens ?? 0;
    if (turn.model_message.cost_status === 'unpriced') state.unpricedTurns += 1;
    renderTotal();
  } catch (error) {
    // Nothing was stored: take the message back off the list; the text stays in the box.
    pending?.remove();
    showError(error);
  } finally {
    setBusy(false);
    ui.message.focus();
  }
}

// ---- Wiring ----------------------------------------------------------------------------------

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
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
ui.userId.addEventListener('change', () => currentUserId());

async function start() {
  ui.userId.value = localStorage.getItem(STORAGE.user) || DEFAULT_USER;
  renderTotal();
  api('GET', 'health')
    .then((health) => {
      ui.banner.hidden = health?.gemini !== 'emulator';
      document.body.dataset.gemini = String(health?.gemini);
    })
    .catch(showError);
  const last = localStorage.getItem(STORAGE.session);
  if (last) await openSession(last, { quiet: true });
  document.body.dataset.ready = 'true';
}

start();
