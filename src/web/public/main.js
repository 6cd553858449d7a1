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

import { networkError, needsKey, readHealth, restoreKey } from './api.js';
import { attachFiles, detach } from './attachments.js';
import { currentSessionId, on } from './state.js';
import { closeSession, lastSessionId, newSession, openSession } from './sessions.js';
import { editedTo, send } from './turn.js';
import { clearError, showError, showHealth } from './views/banners.js';
import { initComposerAttachments } from './views/composer-attachments.js';
import { initConversation, renderRetry } from './views/conversation.js';
import { initEstimate, scheduleEstimate } from './views/estimate.js';
import { focusKeyInput, initKeyArea, renderKeyArea } from './views/key-area.js';
import { cancelDeleteOnEscape, initOpenSession } from './views/open-session.js';
import { initSessionContext } from './views/session-context.js';
import { initSessionForm } from './views/session-form.js';
import { clearSessions, closeDrawerOnEscape, initSessionList, refreshSessions } from './views/session-list.js';
import { clearUsage, initUsage, refreshUsage } from './views/usage.js';

/** Loads what the page shows from the API: the session list, the last session, the usage. */
async function loadData() {
  const listed = refreshSessions();
  const last = lastSessionId();
  // A key entered while a session is shown keeps it; otherwise the last one comes back.
  if (last && !currentSessionId()) await openSession(last, { quiet: true });
  await listed;
  refreshUsage();
}

/** The key is gone: so is what it showed (the last session is still remembered for the next key). */
function clearView() {
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
    onEdit: (text) => {
      editedTo(text);
      scheduleEstimate();
    },
  });
  initComposerAttachments({ attach: attachFiles, detach });
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
