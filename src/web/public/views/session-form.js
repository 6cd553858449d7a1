// The bar above the conversation: the user id, "New session", and a session id to open.

import { $ } from '../dom.js';
import { currentSessionId, on } from '../state.js';

const USER_STORAGE = 'gemini-chat.user-id';
const DEFAULT_USER = 'web-user';

const ui = {
  form: $('session-form'),
  userId: $('user-id'),
  newSession: $('new-session'),
  sessionId: $('session-id'),
};

/** The user id typed in the bar (the default one when empty); remembered for the next visit. */
export function currentUserId() {
  const userId = ui.userId.value.trim() || DEFAULT_USER;
  localStorage.setItem(USER_STORAGE, userId);
  return userId;
}

/**
 * The user the key in use acts for (GET /me), or null when the key may act for anyone (the admin
 * key, open mode) or is not known: a user's key shows its user, and the field follows the key.
 */
export function setKeyUser(userId) {
  ui.userId.readOnly = Boolean(userId);
  ui.userId.title = userId ? 'The user of the API key in use' : '';
  if (!userId) return;
  ui.userId.value = userId;
  localStorage.setItem(USER_STORAGE, userId);
}

/**
 * Wires the bar. onNew(): "New session"; onOpen(id): a session id was submitted;
 * onUserChange(): another user id was entered.
 */
export function initSessionForm({ onNew, onOpen, onUserChange }) {
  ui.userId.value = localStorage.getItem(USER_STORAGE) || DEFAULT_USER;
  // The id field shows the session shown; a fresher description of it leaves what is typed alone.
  on('session', ({ switched }) => {
    if (switched) ui.sessionId.value = currentSessionId() ?? '';
  });
  ui.newSession.addEventListener('click', () => onNew());
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = ui.sessionId.value.trim();
    if (id) onOpen(id);
  });
  ui.userId.addEventListener('change', () => onUserChange());
}
