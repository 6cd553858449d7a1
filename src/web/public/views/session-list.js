// The session list of the current user, newest first, a page at a time; a drawer on a phone.

import { $ } from '../dom.js';
import * as api from '../api.js';
import { formatFull, formatUsd, formatWhen, plural, titleOf } from '../format.js';
import {
  beginListMore,
  beginListReload,
  clearList,
  currentSessionId,
  describeSession,
  endListLoad,
  fresh,
  isStale,
  on,
  sessionList,
  takeListPage,
} from '../state.js';
import { openSession } from '../sessions.js';
import { currentUserId } from './session-form.js';

const PAGE = 20;
const PAGE_MAX = 100;

const ui = {
  sidebar: $('sidebar'),
  toggle: $('sidebar-toggle'),
  close: $('sidebar-close'),
  backdrop: $('sidebar-backdrop'),
  user: $('session-list-user'),
  list: $('session-list'),
  status: $('session-list-status'),
  more: $('more-sessions'),
};

const narrow = window.matchMedia('(max-width: 760px)');

// ---- Loading ---------------------------------------------------------------------------------

/**
 * Loads the list again from the top for the current user id, as many entries as are shown now
 * (so "More" pages already opened stay open).
 */
export async function refreshSessions() {
  const userId = currentUserId();
  const before = sessionList();
  const limit = before.userId === userId ? Math.min(PAGE_MAX, Math.max(PAGE, before.items.length)) : PAGE;
  const started = beginListReload(userId);
  if (before.userId !== userId) ui.list.replaceChildren();
  ui.user.textContent = `of ${userId}`;
  setStatus(sessionList().items.length ? '' : 'Loading…');
  renderMore();
  try {
    takeListPage(await fresh(started, api.listSessions(userId, limit)), { append: false });
    renderItems();
  } catch (error) {
    if (isStale(error)) return;
    if (error.status === 401) setStatus('Enter the API key to see the sessions.');
    else setStatus(`Could not load the sessions: ${error.message}`, true);
  } finally {
    endListLoad(started);
    renderMore();
  }
}

async function loadMore() {
  const started = beginListMore();
  if (!started) return;
  renderMore();
  const { userId, nextCursor } = sessionList();
  try {
    takeListPage(await fresh(started, api.listSessions(userId, PAGE, nextCursor)), { append: true });
    renderItems();
  } catch (error) {
    if (!isStale(error)) setStatus(`Could not load more sessions: ${error.message}`, true);
  } finally {
    endListLoad(started);
    renderMore();
  }
}

/** Empties the list (the key is gone); its loads under way are dropped when they answer. */
export function clearSessions() {
  clearList();
  ui.list.replaceChildren();
  renderMore();
  setStatus('');
}

// ---- Rendering -------------------------------------------------------------------------------

function setStatus(text, isError = false) {
  ui.status.textContent = text;
  ui.status.hidden = text === '';
  ui.status.classList.toggle('is-error', isError);
}

function renderMore() {
  const { hasMore, loading } = sessionList();
  ui.more.hidden = !hasMore;
  ui.more.disabled = loading;
  if (loading) ui.list.setAttribute('aria-busy', 'true');
  else ui.list.removeAttribute('aria-busy');
}

function renderItems() {
  const { items } = sessionList();
  ui.list.replaceChildren(...items.map(itemOf));
  setStatus(items.length ? '' : 'No sessions yet.');
  markCurrent();
  // The list may know the open session better (changed from another tab); the state keeps
  // whichever description is the most recent.
  const open = items.find((session) => session.session_id === currentSessionId());
  if (open) describeSession(open);
}

function itemOf(session) {
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
  when.title = `Updated ${formatFull(session.updated_at)}`;
  const cost = document.createElement('span');
  cost.className = 'session-cost';
  cost.textContent = formatUsd(session.total_cost_usd);
  cost.title = plural(session.message_count ?? 0, 'message');
  meta.append(when, cost);

  button.append(title, meta);
  item.append(button);
  return item;
}

function markCurrent() {
  const open = currentSessionId();
  for (const item of ui.list.children) {
    const current = item.dataset.sessionId === open;
    item.classList.toggle('current', current);
    const button = item.querySelector('button');
    if (current) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }
}

// ---- The drawer ------------------------------------------------------------------------------

function setDrawerOpen(open) {
  ui.sidebar.classList.toggle('open', open);
  ui.backdrop.hidden = !open || !narrow.matches;
  ui.toggle.setAttribute('aria-expanded', String(open));
  if (open && narrow.matches) ui.sidebar.querySelector('button.session-open, #sidebar-close')?.focus();
}

/** Escape: closes the drawer on a narrow screen; false when it was not open there. */
export function closeDrawerOnEscape() {
  if (!ui.sidebar.classList.contains('open') || !narrow.matches) return false;
  setDrawerOpen(false);
  ui.toggle.focus();
  return true;
}

export function initSessionList() {
  on('session', markCurrent);
  ui.list.addEventListener('click', (event) => {
    const item = event.target.closest('.session-item');
    if (!item) return;
    if (narrow.matches) setDrawerOpen(false);
    // The open one is already shown (reopening it would also stop a reply being streamed).
    if (item.dataset.sessionId !== currentSessionId()) openSession(item.dataset.sessionId);
  });
  ui.more.addEventListener('click', () => loadMore());
  ui.toggle.addEventListener('click', () => setDrawerOpen(!ui.sidebar.classList.contains('open')));
  ui.close.addEventListener('click', () => {
    setDrawerOpen(false);
    ui.toggle.focus();
  });
  ui.backdrop.addEventListener('click', () => setDrawerOpen(false));
  narrow.addEventListener('change', () => setDrawerOpen(false));
}
