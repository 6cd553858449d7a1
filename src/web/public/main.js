// The built-in chat page: wires the views to each other and starts. Plain ES modules, no build
// step; its two dependencies (marked, DOMPurify) are served from node_modules as /vendor/… files.
// What each part does is in its module:
//   api.js      the HTTP API, the tab's API key, errors, streamed turns (sse.js parses the stream)
//   state.js    what the page knows, how it changes, and which answers are stale
//   sessions.js which session is shown;  turn.js  sending a message
//   attachments.js uploading the files attached to it (media-types.js: the type each is sent as)
//   markdown.js replies as sanitized Markdown;  context.js  what a turn's context was
//   views/      the key area, banners, session bar, session list, open session, its context and
//               model, conversation (a message's files: message-attachments), the files attached
//               to the message being written (composer-attachments), its estimate, usage

import { authMode, getMe, hasKey, networkError, needsKey, onKeyChange, readHealth, restoreKey } from './api.js';
import { attachFiles, detach } from './attachments.js';
import { currentSessionId, on } from './state.js';
import { closeSession, lastSessionId, newSession, onRunningTurn, openSession } from './sessions.js';
import { editedTo, follow, send, stop } from './turn.js';
import { clearError, clearSendError, showError, showHealth } from './views/banners.js';
import { initComposerAttachments } from './views/composer-attachments.js';
import { initConversation, renderRetry } from './views/conversation.js';
import { initEstimate, scheduleEstimate } from './views/estimate.js';
import { focusKeyInput, initKeyArea, renderKeyArea } from './views/key-area.js';
import { cancelDeleteOnEscape, initOpenSession } from './views/open-session.js';
import { initSessionContext } from './views/session-context.js';
import { initSessionForm, setKeyUser } from './views/session-form.js';
import { clearSessions, closeDrawerOnEscape, initSessionList, refreshSessions } from './views/session-list.js';
import { clearUsage, initUsage, refreshUsage } from './views/usage.js';

/** Loads what the page shows from the API: whose key it is, the session list, the last session, the usage. */
async function loadData() {
  await readKeyUser();
  const listed = refreshSessions();
  const last = lastSessionId();
  // A key entered while a session is shown keeps it; otherwise the last one comes back.
  if (last && !currentSessionId()) await openSession(last, { quiet: true });
  await listed;
  refreshUsage();
}

/**
 * A user's key acts for its user only: the user field shows that user (GET /me). The admin key
 * may act for anyone, and open mode needs no key: the field is the person's to fill, as before.
 * A service that cannot say (no /me, unreachable) leaves the field as it is.
 */
async function readKeyUser() {
  if (authMode() !== 'on' || !hasKey()) {
    setKeyUser(null);
    return;
  }
  try {
    const me = await getMe();
    setKeyUser(me?.role === 'user' && typeof me.user_id === 'string' ? me.user_id : null);
  } catch {
    setKeyUser(null);
  }
}

/** The key is gone: so is what it showed (the last session is still remembered for the next key). */
function clearView() {
  setKeyUser(null);
  closeSession();
  clearSessions();
  clearUsage();
}

function wire() {
  initKeyArea({
    onKey: () => {
      clearError();
      loadData();
    },
    onForget: clearView,
  });
  initSessionForm({
    onNew: () => newSession(),
    onOpen: (id) => openSession(id),
    onUserChange: () => {
      refreshSessions();
      refreshUsage();
    },
  });
  initSessionList();
  initOpenSession();
  initSessionContext();
  initConversation({
    send,
    stop,
    onEdit: (text) => {
      editedTo(text);
      scheduleEstimate();
    },
  });
  initComposerAttachments({ attach: attachFiles, detach });
  // A session opened while a turn runs in it (after a reload, say): the reply is followed to its end.
  onRunningTurn(follow);
  // A key dropped (forgotten, refused) says nothing of any user any more.
  onKeyChange(() => {
    if (!hasKey()) setKeyUser(null);
  });
  // A send's error is about the session it was sent to.
  on('session', ({ switched }) => {
    if (switched) clearSendError();
  });
  initEstimate();
  initUsage();
  // Whatever changed on the server (a session made, renamed or deleted, a turn stored) changes
  // the list and the usage report: both are read again.
  on('stored', () => {
    refreshSessions();
    refreshUsage();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    if (!closeDrawerOnEscape()) cancelDeleteOnEscape();
  });
}

async function start() {
  restoreKey();
  wire();
  const health = await readHealth();
  if (health) showHealth(health);
  else showError(networkError());
  renderKeyArea();
  renderRetry();
  // Without a key nothing else is asked for: the key area says what is needed.
  if (needsKey()) focusKeyInput();
  else await loadData();
  document.body.dataset.ready = 'true';
}

start();
