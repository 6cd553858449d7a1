// The page's messages to the person: the error line, the short-lived notice, the offline banner.

import { $ } from '../dom.js';
import { authMode, needsKey } from '../api.js';
import { formatWait } from '../format.js';
import { askForKey } from './key-area.js';

const ui = { error: $('error'), notice: $('notice'), offline: $('offline-banner') };
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

/** From /health: the banner says when replies come from the bundled emulator, not from Google. */
export function showHealth(health) {
  ui.offline.hidden = health.gemini !== 'emulator';
  document.body.dataset.gemini = String(health.gemini);
}
