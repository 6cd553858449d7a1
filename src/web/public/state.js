// What the page knows, and the only code that changes it. Other modules read it through the
// getters below and change it through the functions below; views that several modules affect
// re-render when `on(topic, listener)` tells them to.
//
// Stale answers are recognised here and nowhere else. The page shows a few *views* that are
// loaded over the network: the open session, the session being opened, the session list, the
// usage report, the estimate of the message being typed. Each has a generation number and a
// key (which session, which user, which text).
// A request takes a ticket of its view when it starts; its answer is used only while
// `isCurrent(ticket)`: the view still shows the same key and nothing replaced it since.
// `fresh(ticket, promise)` applies that rule to an answer (or an error) in one step.

// ---- Change notifications --------------------------------------------------------------------

const listeners = new Map();

/**
 * listener(detail) after a change of `topic`:
 * - 'session': the open session changed; detail {switched}: another session (or none) is shown,
 *   rather than a fresher description of the same one;
 * - 'busy': a message started or stopped being sent (or a running turn being followed);
 * - 'running': the running turn of the open session was named, asked to stop, or ended;
 * - 'retry': the send offered for retry changed;
 * - 'stored': something changed on the server (a session made, renamed or deleted, a turn stored):
 *   lists and reports built from the API are out of date;
 * - 'attachments': the files attached to the message being written changed (added, uploaded,
 *   refused, removed).
 */
export function on(topic, listener) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(listener);
}

function emit(topic, detail) {
  for (const listener of listeners.get(topic) ?? []) listener(detail);
}

/** Says that the server's data changed (see 'stored' above). */
export const notifyStored = () => emit('stored');

// ---- Stale answers ---------------------------------------------------------------------------

const views = {
  /** The open session; key: its id. Replaced when another session (or none) is shown. */
  session: { generation: 0, key: null },
  /** A session being opened or made; each new attempt replaces the one before. */
  opening: { generation: 0, key: null },
  /** The session list; key: the user id it lists. Each reload from the top replaces the one before. */
  list: { generation: 0, key: null },
  /** The usage report; key: the user id. Each reload replaces the one before. */
  usage: { generation: 0, key: null },
  /**
   * The estimate of the message being typed; key: what it depends on (the session, its size, the
   * text). Another key replaces it: an answer about text since changed is never shown.
   */
  estimate: { generation: 0, key: null },
};

/** A ticket for `view` as it is now: a request whose answer belongs to this view takes one. */
export function ticket(view) {
  const { generation, key } = views[view];
  return { view, generation, key };
}

/** Starts a new version of `view` (for `key`): answers to tickets taken before are stale from now on. */
export function supersede(view, key = views[view].key) {
  views[view].generation += 1;
  views[view].key = key;
  return ticket(view);
}

/** True while the view the ticket was taken for is still the one shown. */
export function isCurrent({ view, generation, key }) {
  return views[view].generation === generation && views[view].key === key;
}

/** The rejection of `fresh` for an answer nobody waits for any more; callers just return. */
class StaleAnswer extends Error {}
export const isStale = (error) => error instanceof StaleAnswer;

/**
 * Resolves to what `promise` resolves to, or rejects with its error, while the ticket is current;
 * once its view has moved on, rejects with a StaleAnswer instead (an error of a view nobody
 * looks at any more is not shown either).
 */
export async function fresh(ticketOf, promise) {
  let value;
  try {
    value = await promise;
  } catch (error) {
    if (!isCurrent(ticketOf)) throw new StaleAnswer(`stale ${ticketOf.view}`);
    throw error;
  }
  if (!isCurrent(ticketOf)) throw new StaleAnswer(`stale ${ticketOf.view}`);
  return value;
}

// ---- The open session ------------------------------------------------------------------------

/** The open session as the API last described it (a Session resource, totals included), or null. */
let session = null;
/**
 * The context of the open session's last turn, or null before its first: {messages, truncated,
 * storedBefore} — the stored messages sent with that turn's message (its model message's
 * `context`), and how many were stored before that message (null when not known).
 */
let lastTurn = null;
/** Aborts the turn being sent, when another session is shown. */
let turnController = null;
/** A session being opened or made (a promise that never rejects), or null. */
let switching = null;
/** What keeps the page busy (see holdBusy). */
const busy = new Set();
/** The running turn of the open session (see runningTurn), with the beginTurn it belongs to. */
let running = null;
/**
 * A send whose outcome is unknown (the connection broke, the server failed or was busy):
 * {text, sessionId, idempotencyKey}. Sending the same text to the same session again reuses
 * its Idempotency-Key, so a turn the server already finished is replayed, not run and billed
 * twice. Any other message gets a new key.
 */
let retry = null;

export const currentSession = () => session;
export const currentSessionId = () => session?.session_id ?? null;
export const lastTurnContext = () => lastTurn;

/**
 * Shows `next` (a Session from the API) or no session (null), with the context of its last turn
 * (see lastTurn). Everything of the session shown before goes: its turn in flight is stopped, its
 * retry offer dropped, its answers become stale.
 */
export function showSession(next, turnContext = null) {
  turnController?.abort();
  turnController = null;
  if (running) {
    running = null;
    emit('running');
  }
  session = next;
  lastTurn = next ? turnContext : null;
  supersede('session', next?.session_id ?? null);
  dropRetry();
  emit('session', { switched: true });
  // A turn may name only its own user's files: attachments made for another user go.
  const owned = next ? attachments.filter((a) => a.owner === next.user_id) : attachments;
  if (owned.length !== attachments.length) {
    attachments = owned;
    emit('attachments');
  }
}

/**
 * A newer description of the open session (after a turn, a rename, from the list). Ignored when
 * it is about another session, or older than the one shown: the answer to a request made before
 * a change may arrive after the answer to one made after it, and totals must never go back.
 */
export function describeSession(description) {
  if (!session || description?.session_id !== session.session_id) return;
  if (olderThan(description, session)) return;
  session = description;
  emit('session', { switched: false });
}

/** The context of a turn just stored in the open session (see lastTurn). */
export function describeLastTurn(sessionId, turnContext) {
  if (!session || sessionId !== session.session_id) return;
  lastTurn = turnContext;
  emit('session', { switched: false });
}

/** True when `a` was read before the last change `b` knows of (updated_at, ISO-8601 UTC). */
const olderThan = (a, b) => typeof a.updated_at === 'string' && typeof b.updated_at === 'string' && a.updated_at < b.updated_at;

/** Remembers a session being opened or made, so a message sent meanwhile goes to that session. */
export function trackSwitch(promise) {
  switching = promise;
  promise.finally(() => {
    if (switching === promise) switching = null;
  });
  return promise;
}

/** Resolves once the session being opened or made (if any) is shown, or failed to be. */
export const switchDone = () => switching;

// ---- Sending ---------------------------------------------------------------------------------

export const isBusy = () => busy.size > 0;

/**
 * Marks the page busy (a message being sent, a running turn being followed) until the returned
 * release() is called: Send waits until nothing holds it.
 */
export function holdBusy() {
  const hold = Symbol('busy');
  busy.add(hold);
  emit('busy');
  return () => {
    if (busy.delete(hold)) emit('busy');
  };
}

/**
 * Starts a turn in the open session: {controller, signal, ticket}. Its answer is current while that session
 * is shown (the ticket), and its request is aborted as soon as another one is.
 */
export function beginTurn() {
  turnController = new AbortController();
  return { controller: turnController, signal: turnController.signal, ticket: ticket('session') };
}

export function endTurn(turn) {
  if (turn && turnController === turn.controller) turnController = null;
  if (running?.turn === turn) {
    running = null;
    emit('running');
  }
}

/**
 * The turn of the open session whose reply is streaming now, once the server named it:
 * {sessionId, turnId, stopping}. It can be stopped (cancelled) while it runs.
 */
export const runningTurn = () => (running ? { sessionId: running.sessionId, turnId: running.turnId, stopping: running.stopping } : null);

/** The server named turn `turn` (from beginTurn) of session `sessionId`: `turnId`. */
export function turnNamed(turn, sessionId, turnId) {
  if (turnController !== turn.controller) return;
  running = { turn, sessionId, turnId, stopping: false };
  emit('running');
}

/** A stop of the running turn was asked for (true), or could not be asked for (false). */
export function turnStopping(turnId, stopping) {
  if (running?.turnId !== turnId) return;
  running.stopping = stopping;
  emit('running');
}

export const retryOffer = () => retry;

/** Offers `attempt` (of the open session) for retry. */
export function offerRetry(attempt) {
  retry = attempt;
  emit('retry');
}

export function dropRetry() {
  if (retry === null) return;
  retry = null;
  emit('retry');
}

// ---- The session list ------------------------------------------------------------------------

const list = { userId: null, items: [], nextCursor: null, hasMore: false, loading: false };

/** The list as loaded so far: a copy (change it through the functions below). */
export const sessionList = () => ({ ...list });

/** Starts loading the list of `userId` from the top; an earlier load's answers become stale. */
export function beginListReload(userId) {
  const started = supersede('list', userId);
  if (list.userId !== userId) Object.assign(list, { userId, items: [], nextCursor: null, hasMore: false });
  list.loading = true;
  return started;
}

/** Starts loading the next page, or null when there is none or a load is under way. */
export function beginListMore() {
  if (!list.hasMore || !list.nextCursor || list.loading) return null;
  list.loading = true;
  return ticket('list');
}

/** A page of GET /sessions: the first (replacing what was listed) or the next one (appended). */
export function takeListPage(page, { append }) {
  const data = page?.data ?? [];
  if (append) {
    const known = new Set(list.items.map((s) => s.session_id));
    list.items = [...list.items, ...data.filter((s) => !known.has(s.session_id))];
  } else {
    list.items = data;
  }
  list.hasMore = Boolean(page?.has_more);
  list.nextCursor = page?.next_cursor ?? null;
}

/** A load ended (answered or failed); only the current one may say the list is not loading. */
export function endListLoad(started) {
  if (isCurrent(started)) list.loading = false;
}

/** Forgets the list (its answers in flight become stale). */
export function clearList() {
  supersede('list', null);
  Object.assign(list, { userId: null, items: [], nextCursor: null, hasMore: false, loading: false });
}

// ---- Attachments of the message being written ------------------------------------------------

/** How many files one message may carry (the API's limit). */
export const MAX_ATTACHMENTS = 10;

/**
 * The files attached to the message being written, in the order attached. Each is uploaded as
 * soon as it is attached: {id (this page's), name, type, size, owner (the user it was uploaded for), status: 'uploading' | 'ready' |
 * 'failed', file (the File resource once stored), error (the ApiError once refused)}.
 */
let attachments = [];
let attachmentIds = 0;

/** The attachments as they are now: copies (change them through the functions below). */
export const draftAttachments = () => attachments.map((a) => ({ ...a }));

/** The stored files of the attachments that are ready to send, in order: File resources. */
export const readyFiles = () => attachments.filter((a) => a.status === 'ready').map((a) => a.file);

export const uploadsPending = () => attachments.some((a) => a.status === 'uploading');

/** Room for this many more attachments. */
export const attachmentRoom = () => MAX_ATTACHMENTS - attachments.length;

/** Adds an attachment being uploaded for user `owner` ({name, type, size, owner}); resolves to its id, or null when there is no room. */
export function addAttachment({ name, type, size, owner }) {
  if (attachmentRoom() <= 0) return null;
  const id = ++attachmentIds;
  attachments = [...attachments, { id, name, type, size, owner, status: 'uploading', file: null, error: null }];
  emit('attachments');
  return id;
}

/**
 * The upload of attachment `id` answered with `file` (a File resource). Ignored when the
 * attachment was removed meanwhile. The same bytes attached twice are one stored file (the API
 * answers with the file it has): the later attachment goes, so a message names each file once.
 */
export function attachmentStored(id, file) {
  if (!attachments.some((a) => a.id === id)) return;
  const twin = attachments.some((a) => a.id !== id && a.file?.file_id === file.file_id);
  attachments = twin
    ? attachments.filter((a) => a.id !== id)
    : attachments.map((a) => (a.id === id ? { ...a, status: 'ready', file, name: file.name, type: file.mime_type, size: file.bytes } : a));
  emit('attachments');
}

/** The upload of attachment `id` was refused (or failed): the chip stays, with the error. */
export function attachmentFailed(id, error) {
  if (!attachments.some((a) => a.id === id)) return;
  attachments = attachments.map((a) => (a.id === id ? { ...a, status: 'failed', error } : a));
  emit('attachments');
}

export function removeAttachment(id) {
  const before = attachments.length;
  attachments = attachments.filter((a) => a.id !== id);
  if (attachments.length !== before) emit('attachments');
}

/** A message with these files (file ids) was stored: their attachments go; any attached since stay. */
export function attachmentsSent(fileIds) {
  const sent = new Set(fileIds);
  const before = attachments.length;
  attachments = attachments.filter((a) => !(a.status === 'ready' && sent.has(a.file.file_id)));
  if (attachments.length !== before) emit('attachments');
}
