// The open session: its total in the header, its title bar, and the inline Rename and Delete.
// Every number shown here is the API's (the Session resource), never a sum kept by the page.

import { $ } from '../dom.js';
import * as api from '../api.js';
import { formatUsd, plural, titleOf } from '../format.js';
import { currentSession, currentSessionId, describeSession, isCurrent, notifyStored, on, ticket } from '../state.js';
import { forgetSession } from '../sessions.js';
import { clearError, showError, showNotice } from './banners.js';

const ui = {
  total: $('session-total'),
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
};

function render({ switched }) {
  // Rename and Delete were about the session shown before.
  if (switched) {
    closeRename();
    closeDelete();
  }
  ui.total.textContent = totalText(currentSession());
  renderTitle();
}

/**
 * "Session total: $0.0012 · 1,066 tokens", from the Session as the API last described it. When
 * the API's totals are not known (the session could not be read after a turn), only the cost the
 * turn answered with is shown.
 */
function totalText(session) {
  if (!session) return 'No session';
  const cost = `Session total: ${formatUsd(session.total_cost_usd)}`;
  return typeof session.total_tokens === 'number' ? `${cost} · ${plural(session.total_tokens, 'token')}` : cost;
}

function renderTitle() {
  const session = currentSession();
  ui.tools.hidden = !session;
  if (!session) return;
  ui.title.textContent = titleOf(session);
  ui.title.classList.toggle('untitled', !session.title);
  ui.title.title = session.title ?? '';
}

// ---- Rename ----------------------------------------------------------------------------------

function openRename() {
  const session = currentSession();
  if (!session) return;
  closeDelete();
  ui.renameInput.value = session.title ?? '';
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
  const id = currentSessionId();
  if (!id) return;
  const shown = ticket('session');
  const typed = ui.renameInput.value.replace(/\s+/g, ' ').trim();
  clearError();
  ui.renameSave.disabled = true;
  let session;
  try {
    session = await api.renameSession(id, typed);
  } catch (error) {
    showError(error);
    return;
  } finally {
    ui.renameSave.disabled = false;
  }
  // The form closes only if it is still about this session; the list shows the title either way.
  if (isCurrent(shown)) {
    describeSession(session);
    closeRename();
    ui.rename.focus();
  }
  notifyStored();
}

// ---- Delete ----------------------------------------------------------------------------------

function openDelete() {
  const session = currentSession();
  if (!session) return;
  closeRename();
  const messages = session.message_count ?? 0;
  ui.deleteQuestion.textContent =
    `Delete “${titleOf(session)}”` + (messages ? ` and its ${plural(messages, 'message')}` : '') + '? This cannot be undone.';
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
  const id = currentSessionId();
  if (!id) return;
  const shown = ticket('session');
  const title = titleOf(currentSession());
  clearError();
  ui.deleteConfirm.disabled = true;
  try {
    await api.deleteSession(id);
  } catch (error) {
    // Already gone is what was asked for.
    if (error.status !== 404) {
      ui.deleteConfirm.disabled = false;
      showError(error);
      return;
    }
  }
  // Closed if it is still the one shown; the page may have moved on meanwhile.
  if (isCurrent(shown)) forgetSession();
  showNotice(`Deleted “${title}”.`);
  notifyStored();
}

/** Escape: gives up a delete that waits for confirmation; false when there was none. */
export function cancelDeleteOnEscape() {
  if (ui.deleteBox.hidden) return false;
  closeDelete();
  ui.remove.focus();
  return true;
}

export function initOpenSession() {
  on('session', render);
  render({ switched: true });
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
}
