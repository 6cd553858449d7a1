// Sending a message: one turn from the composer (its text and the files attached) to a stored
// reply, streamed as it arrives, and the session's totals as the API states them once the turn is stored.

import * as api from './api.js';
import { turnContext } from './context.js';
import {
  attachmentsSent,
  beginTurn,
  currentSession,
  currentSessionId,
  describeLastTurn,
  describeSession,
  dropRetry,
  endTurn,
  fresh,
  holdBusy,
  isBusy,
  isCurrent,
  isStale,
  notifyStored,
  offerRetry,
  readyFiles,
  retryOffer,
  runningTurn,
  switchDone,
  turnNamed,
  turnStopping,
  uploadsPending,
} from './state.js';
import { newSession, openSession } from './sessions.js';
import { clearError, clearSendError, showError, showNotice, showSendError } from './views/banners.js';
import {
  appendPending,
  clearComposerIf,
  composerText,
  discardMessage,
  finishTurn,
  focusComposer,
  setThinking,
  showPartialReply,
  startReply,
} from './views/conversation.js';
import { askForKey } from './views/key-area.js';

/**
 * Sends the message in the box with the files attached (or, with `retry`, the message of the
 * failed attempt offered for retry). Every attempt carries an Idempotency-Key; the same text with
 * the same files to the same session right after an attempt of unknown outcome reuses that
 * attempt's key. A message may be files alone; files still uploading hold it back (a turn names
 * a file by the id its upload returns), and files the API refused are not sent.
 */
export async function send({ retry = false } = {}) {
  if (isBusy()) return;
  if (api.needsKey()) {
    askForKey();
    return;
  }
  const offered = retryOffer();
  const again = retry && offered;
  if (!again && uploadsPending()) {
    showNotice('The attached files are still uploading: send once they are done.');
    return;
  }
  const text = again ? offered.text : composerText();
  const files = again ? offered.files : readyFiles();
  if (text.trim() === '' && files.length === 0) return;
  const fileIds = files.map((file) => file.file_id);
  clearError();
  clearSendError();
  const release = holdBusy();
  let pending = null;
  let reply = null;
  let turn = null;
  let attempt = null;
  try {
    // A message sent while a session is being opened or made goes to that session.
    await switchDone();
    if (!currentSessionId() && !(await newSession())) return;
    const sessionId = currentSessionId();
    attempt =
      offered && offered.text === text && sameFiles(offered.files, files) && offered.sessionId === sessionId
        ? offered
        : { text, files, sessionId, idempotencyKey: api.newIdempotencyKey() };
    dropRetry();
    pending = appendPending(text, files);
    turn = beginTurn();
    let streamed = '';
    const answer = await fresh(
      turn.ticket,
      api.sendTurn(sessionId, { message: text, fileIds }, attempt.idempotencyKey, {
        signal: turn.signal,
        onTurn: (turnId) => turnNamed(turn, sessionId, turnId),
        onWait: () => setThinking('The earlier attempt of this message is still running on the server; waiting for its reply…'),
        onDelta: (delta) => {
          if (!isCurrent(turn.ticket)) return;
          reply ??= startReply();
          streamed += delta;
          showPartialReply(reply, streamed);
        },
      }),
    );
    // The turn is stored: the totals shown are the ones the API now states for the session.
    const session = await fresh(turn.ticket, sessionAfter(sessionId, answer.turn));
    finishTurn(pending, reply, answer.turn, { replayed: answer.replayed });
    pending = reply = null;
    // The turn's user message came after all but the two messages the turn stored.
    const storedBefore = typeof session.message_count === 'number' ? session.message_count - 2 : null;
    describeLastTurn(sessionId, turnContext(answer.turn.model_message, storedBefore));
    describeSession(session);
    clearComposerIf(text);
    attachmentsSent(fileIds);
    if (answer.replayed) showNotice('The server had already finished this reply: it is shown now, not asked for or paid for again.');
    notifyStored();
  } catch (error) {
    // Nothing was stored, or it is not known yet: take the message (and any partial reply) back
    // off the list; the text stays in the box, the files stay attached.
    if (pending) discardMessage(pending);
    if (reply) discardMessage(reply);
    // Another session is shown now: this one's outcome is nobody's concern on the page.
    if (isStale(error)) return;
    // When the outcome is unknown (the connection broke), or the server failed, was busy or
    // refused the key, the same message may be sent again with the same key: the server replays
    // what it finished and runs again what it did not. A definite answer (400, 404, 422…) is final.
    if (attempt && mayRetry(error)) offerRetry(attempt);
    // Beside the box the message is still in: the top of a long conversation is out of view.
    showSendError(error);
  } finally {
    endTurn(turn);
    release();
    if (!api.needsKey()) focusComposer();
  }
}

/**
 * Stops the running turn of the open session (POST …/cancel). Its stream then ends with `done`
 * carrying what was written so far, stored as the reply (finish_reason CANCELLED) with its cost,
 * and the send (or follow) shows it as any finished turn. Closing the tab or opening another
 * session only stops reading: the turn goes on, and is stored.
 */
export async function stop() {
  const turn = runningTurn();
  if (!turn || turn.stopping) return;
  turnStopping(turn.turnId, true);
  try {
    await api.cancelTurn(turn.sessionId, turn.turnId);
  } catch (error) {
    // Finished meanwhile (409): its `done` is on its way, the reply whole.
    if (error?.status === 409) return;
    turnStopping(turn.turnId, false);
    showSendError(error);
  }
}

/** Turns followed to their end on this page: a session opened again after one is not followed twice. */
const followed = new Set();

/**
 * Follows the turn still running in a session just opened (after a reload, say): its reply
 * streams in to its end, as a send's would, and then the session is read again, so the stored
 * messages (the turn's own among them) are shown. Nothing is sent to the model. A turn whose
 * events are no longer kept (410 TURN_NOT_RESUMABLE) is over: its messages are in the history.
 */
export async function follow(session) {
  const sessionId = session.session_id;
  const turnId = session.active_turn_id;
  if (!turnId || followed.has(turnId)) return;
  followed.add(turnId);
  const release = holdBusy();
  const turn = beginTurn();
  turnNamed(turn, sessionId, turnId);
  let reply = null;
  let streamed = '';
  let failure = null;
  try {
    await fresh(
      turn.ticket,
      api.followTurn(sessionId, turnId, {
        signal: turn.signal,
        onDelta: (delta) => {
          if (!isCurrent(turn.ticket)) return;
          reply ??= startReply();
          streamed += delta;
          showPartialReply(reply, streamed);
        },
      }),
    );
  } catch (error) {
    // Left for another session before its end: followed again when that session is opened again.
    if (isStale(error)) {
      followed.delete(turnId);
      return;
    }
    if (error?.status !== 410) failure = error;
  } finally {
    endTurn(turn);
    release();
  }
  // The turn is over (or cannot be followed): the session as stored, totals and all.
  if (!isCurrent(turn.ticket)) {
    followed.delete(turnId);
    return;
  }
  await openSession(sessionId, { quiet: true });
  if (failure) showError(failure);
}

/**
 * The session as GET /sessions/:id describes it after a turn: its title (the first turn names it),
 * its totals (message_count, total_tokens, total_cost_usd) and what its context weighs
 * (context_tokens). Should that read fail, the turn's own answer still says what the session has
 * cost (session_total_cost_usd); the other figures are then unknown rather than guessed.
 */
async function sessionAfter(sessionId, turn) {
  try {
    return await api.getSession(sessionId);
  } catch {
    const shown = currentSession();
    return {
      ...shown,
      total_cost_usd: turn.session_total_cost_usd ?? shown?.total_cost_usd,
      total_tokens: null,
      message_count: null,
      context_tokens: null,
    };
  }
}

/** The same files in the same order: the same message (files are File resources). */
const sameFiles = (a, b) => a.length === b.length && a.every((file, i) => file.file_id === b[i].file_id);

function mayRetry(error) {
  const status = error?.status ?? 0;
  return status === 0 || status >= 500 || status === 401 || status === 429 || error?.code === 'IDEMPOTENCY_IN_PROGRESS';
}

/** An edited message is a new message: it gets a new Idempotency-Key. */
export function editedTo(text) {
  const offered = retryOffer();
  if (offered && text !== offered.text) dropRetry();
}
