// The page's messages to the person: the error line, the short-lived notice, the offline banner,
// the models going away (from /health).

import { $ } from '../dom.js';
import { authMode, needsKey } from '../api.js';
import { formatModelNotice, formatWait } from '../format.js';
import { askForKey } from './key-area.js';

const ui = { error: $('error'), notice: $('notice'), offline: $('offline-banner'), models: $('model-notices') };
const NOTICE_MS = 4000;
let noticeTimer = 0;

/** Shows an ApiError as "CODE: message"; a missing or refused key is said in the key area instead. */
export function showError(error) {
  if (error?.status === 401 && authMode() !== 'off') {
    clearError();
    if (needsKey()) askForKey();
    return;
  }
  const code = error?.code ?? 'ERROR';
  let message = error?.message ?? String(error);
  if (error?.retryAfter && (error.status === 429 || error.status === 503) && !/try again in/i.test(message)) {
    message += ` Try again in ${formatWait(error.retryAfter)}.`;
  }
  ui.error.textContent = `${code}: ${message}`;
  ui.error.hidden = false;
}

export function clearError() {
  ui.error.textContent = '';
  ui.error.hidden = true;
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
