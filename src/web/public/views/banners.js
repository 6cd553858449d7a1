// The page's messages to the person: the error line, the short-lived notice, the offline banner,
// the models going away (from /health).

import { $ } from '../dom.js';
import { authMode, needsKey } from '../api.js';
import { formatModelNotice, formatWait } from '../format.js';
import { askForKey } from './key-area.js';

const ui = {
  error: $('error'),
  sendError: $('send-error'),
  notice: $('notice'),
  offline: $('offline-banner'),
  models: $('model-notices'),
};
const NOTICE_MS = 4000;
let noticeTimer = 0;

/** Shows an ApiError as "CODE: message"; a missing or refused key is said in the key area instead. */
export const showError = (error) => showIn(ui.error, error);

export const clearError = () => clearIn(ui.error);

/**
 * The error of a message that could not be sent (or stopped), beside the box it is still in:
 * in view however long the conversation, where the page-level line would be scrolled away.
 */
export const showSendError = (error) => showIn(ui.sendError, error);

export const clearSendError = () => clearIn(ui.sendError);

function showIn(line, error) {
  if (error?.status === 401 && authMode() !== 'off') {
    clearIn(line);
    if (needsKey()) askForKey();
    return;
  }
  const code = error?.code ?? 'ERROR';
  let message = error?.message ?? String(error);
  if (error?.retryAfter && (error.status === 429 || error.status === 503) && !/try again in/i.test(message)) {
    message += ` Try again in ${formatWait(error.retryAfter)}.`;
  }
  line.textContent = `${code}: ${message}`;
  line.hidden = false;
}

function clearIn(line) {
  line.textContent = '';
  line.hidden = true;
}

/** A line that goes away by itself (a deletion done, a reply replayed). */
export function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    ui.notice.hidden = true;
  }, NOTICE_MS);
}

/** Where the model of a notice is in use. */
const USED_BY = { GEMINI_MODEL: ' (set as GEMINI_MODEL, the model of new sessions)', sessions: ' (used by sessions)' };

/**
 * From /health: the banner says when replies come from the bundled emulator, not from Google, and
 * one line says so for each model in use that is deprecated or retired.
 */
export function showHealth(health) {
  ui.offline.hidden = health.gemini !== 'emulator';
  document.body.dataset.gemini = String(health.gemini);
  const notices = Array.isArray(health.model_notices) ? health.model_notices : [];
  ui.models.replaceChildren(
    ...notices.map((notice) => {
      const item = document.createElement('li');
      item.textContent = `${formatModelNotice(notice)}${USED_BY[notice.used_by] ?? ''}`;
      return item;
    }),
  );
  ui.models.hidden = notices.length === 0;
}
