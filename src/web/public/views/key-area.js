// The API key area: shown when the service needs a key, it takes one for this tab or forgets it.

import { $ } from '../dom.js';
import { KEY_NEEDED, authMode, hasKey, needsKey, onKeyChange, onUnauthorized, setApiKey } from '../api.js';

const ui = {
  area: $('key-area'),
  prompt: $('key-prompt'),
  form: $('key-form'),
  input: $('api-key'),
  forget: $('forget-key'),
  status: $('key-status'),
};

/** Redraws the area from the key in use and the service's auth mode. */
export function renderKeyArea() {
  const inUse = hasKey();
  ui.area.hidden = authMode() !== 'on';
  ui.forget.hidden = !inUse;
  ui.input.placeholder = inUse ? 'A key is in use (enter another to replace it)' : 'Paste your API key';
  ui.status.textContent = inUse ? 'A key is in use in this tab. Closing the tab forgets it.' : '';
  if (!needsKey()) ui.prompt.hidden = true;
  else if (ui.prompt.hidden) showKeyPrompt(KEY_NEEDED);
  document.body.dataset.auth = authMode();
}

/** The prompt in the key area (instead of a generic error): the page waits for a key. */
export function showKeyPrompt(text, { focus = false } = {}) {
  ui.area.hidden = false;
  ui.prompt.textContent = text;
  ui.prompt.hidden = false;
  if (focus) ui.input.focus();
}

/** Points the person at the key field, keeping what the prompt already says. */
export function askForKey() {
  showKeyPrompt(ui.prompt.hidden || !ui.prompt.textContent ? KEY_NEEDED : ui.prompt.textContent, { focus: true });
}

export const focusKeyInput = () => ui.input.focus();

/**
 * Wires the form. onKey(): a key was entered (load what it may see); onForget(): the key was
 * dropped by the person (empty the page of what it showed).
 */
export function initKeyArea({ onKey, onForget }) {
  onKeyChange(renderKeyArea);
  onUnauthorized((refused) =>
    showKeyPrompt(refused ? 'The API key was refused (unknown, revoked or mistyped). Enter a valid key to continue.' : KEY_NEEDED),
  );
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = ui.input.value.trim();
    if (!key) {
      showKeyPrompt(hasKey() ? 'Enter a key to replace the one in use.' : KEY_NEEDED, { focus: true });
      return;
    }
    ui.input.value = '';
    setApiKey(key);
    onKey();
  });
  ui.forget.addEventListener('click', () => {
    setApiKey('');
    ui.input.value = '';
    onForget();
    showKeyPrompt('Key forgotten. ' + KEY_NEEDED, { focus: true });
  });
}
