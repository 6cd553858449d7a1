// Which session the page shows: making one, opening one with its history, letting it go.

import * as api from './api.js';
import { lastTurnIn } from './context.js';
import { fresh, isStale, notifyStored, showSession, supersede, trackSwitch } from './state.js';
import { clearError, showError } from './views/banners.js';
import { focusComposer, showMessages } from './views/conversation.js';
import { currentUserId } from './views/session-form.js';

const SESSION_STORAGE = 'gemini-chat.session-id';

/** Told of a session opened while a turn runs in it (active_turn_id): see onRunningTurn. */
let runningTurnListener = null;

/** listener(session) when a session opens with a turn running in it (after a reload, say). */
export function onRunningTurn(listener) {
  runningTurnListener = listener;
}

/** The session shown last time (reopened at start), or null. */
export const lastSessionId = () => localStorage.getItem(SESSION_STORAGE);

function show(session, messages) {
  showSession(session, lastTurnIn(messages));
  showMessages(messages);
  localStorage.setItem(SESSION_STORAGE, session.session_id);
}

/** Makes a session for the current user and shows it; resolves to it, or null when it failed. */
export function newSession() {
  return trackSwitch(makeSession());
}

async function makeSession() {
  const opening = supersede('opening');
  clearError();
  try {
    const session = await fresh(opening, api.createSession(currentUserId()));
    show(session, []);
    notifyStored();
    focusComposer();
    return session;
  } catch (error) {
    if (!isStale(error)) showError(error);
    return null;
  }
}

/** Opens a session with its history. `quiet`: a missing session is forgotten without a word. */
export function openSession(id, options) {
  return trackSwitch(loadSession(id, options));
}

async function loadSession(id, { quiet = false } = {}) {
  const opening = supersede('opening');
  clearError();
  try {
    const [session, history] = await fresh(opening, Promise.all([api.getSession(id), api.getHistory(id)]));
    show(session, history?.messages ?? []);
    if (session.active_turn_id) runningTurnListener?.(session);
  } catch (error) {
    if (isStale(error)) return;
    if (quiet && error.status === 404) forgetSession();
    else showError(error);
  }
}

/** Shows no session, and forgets the last one (it is gone). */
export function forgetSession() {
  showNone();
  localStorage.removeItem(SESSION_STORAGE);
}

/**
 * Shows no session but remembers it, so that the next key reopens it (the key is gone). A
 * session being opened or made with the old key is not shown either.
 */
export function closeSession() {
  supersede('opening');
  showNone();
}

function showNone() {
  showSession(null);
  showMessages([]);
}
