// The conversation: the messages of the open session, the thinking line, and the composer with
// its Send and Retry buttons. Every piece of API data is put on the page as text (textContent),
// never parsed as HTML, but for a finished model reply: that is Markdown, rendered by markdown.js
// into sanitized elements. A reply still streaming is shown as text (its Markdown is incomplete).
// A user message's files are drawn by message-attachments.js.

import { $ } from '../dom.js';
import { formatMeta } from '../format.js';
import { needsKey, onKeyChange } from '../api.js';
import { renderMarkdown } from '../markdown.js';
import { isBusy, on, retryOffer, uploadsPending } from '../state.js';
import { releaseAllAttachments, releaseAttachments, renderAttachments } from './message-attachments.js';

const THINKING = 'Gemini is thinking…';

const ui = {
  messages: $('messages'),
  thinking: $('thinking'),
  composer: $('composer'),
  message: $('message'),
  send: $('send'),
  retry: $('retry-send'),
};

// ---- Messages --------------------------------------------------------------------------------

/** Shows these messages (a session's history) instead of what was shown. */
export function showMessages(messages) {
  releaseAllAttachments();
  ui.messages.replaceChildren();
  for (const message of messages) appendMessage(message);
}

/** Adds a message to the list and returns its element; renderMessage can update it in place later. */
function appendMessage(message) {
  const item = document.createElement('li');
  item.className = `message ${message.role}`;
  item.dataset.role = message.role;
  const text = document.createElement('div');
  text.className = message.role === 'model' ? 'reply-text' : 'message-text';
  item.append(text);
  if (message.role === 'model') {
    const meta = document.createElement('div');
    meta.className = 'reply-meta';
    item.append(meta);
  }
  ui.messages.append(item);
  renderMessage(item, message);
  return item;
}

/**
 * (Re)draws a message element from a Message: the text (a model reply's as Markdown), and for
 * model replies the usage line once usage is known.
 */
function renderMessage(item, message) {
  const body = item.querySelector('.reply-text, .message-text');
  if (message.role === 'model') body.replaceChildren(renderMarkdown(message.content));
  else {
    body.textContent = message.content ?? '';
    renderAttachments(item, message.attachments ?? []);
  }
  const meta = item.querySelector('.reply-meta');
  if (meta) {
    meta.textContent = message.usage ? formatMeta(message) : '';
    if (message.model) meta.title = `Model: ${message.model}`;
  }
  if (message.id !== undefined) item.dataset.id = String(message.id);
  item.scrollIntoView({ block: 'end' });
}

/**
 * The message being sent, with its files (File resources), shown at once (marked pending) until
 * the server stored it.
 */
export function appendPending(text, files = []) {
  const item = appendMessage({ role: 'user', content: text, attachments: files });
  item.classList.add('pending');
  return item;
}

/** Takes a message (a pending one, a partial reply) off the list, with what its attachments hold. */
export function discardMessage(item) {
  releaseAttachments(item);
  item.remove();
}

/** A reply that is still arriving: marked data-streaming until finishTurn. */
export function startReply() {
  const reply = appendMessage({ role: 'model', content: '' });
  reply.dataset.streaming = 'true';
  reply.setAttribute('aria-busy', 'true');
  ui.thinking.hidden = true;
  return reply;
}

/** Shows the reply so far; the page keeps following it if it was at the bottom. */
export function showPartialReply(reply, text) {
  const follow = atBottom();
  reply.querySelector('.reply-text').textContent = text;
  if (follow) reply.scrollIntoView({ block: 'end' });
}

/** True when the page is scrolled (nearly) to the bottom: streaming then keeps it there. */
function atBottom() {
  const root = document.scrollingElement ?? document.documentElement;
  return root.scrollHeight - root.scrollTop - root.clientHeight < 120;
}

/**
 * Draws a finished turn from the API's answer: the pending message and the reply (streamed so far,
 * or null when nothing was streamed) become the stored messages, with ids, usage and cost.
 */
export function finishTurn(pending, reply, turn, { replayed }) {
  renderMessage(pending, turn.user_message);
  pending.classList.remove('pending');
  const done = reply ?? appendMessage(turn.model_message);
  if (reply) renderMessage(reply, turn.model_message);
  delete done.dataset.streaming;
  done.removeAttribute('aria-busy');
  if (replayed) done.dataset.replayed = 'true';
}

// ---- Composer --------------------------------------------------------------------------------

export const composerText = () => ui.message.value;

/** Empties the box, unless the person already typed something else there. */
export function clearComposerIf(text) {
  if (ui.message.value === text) ui.message.value = '';
}

export const focusComposer = () => ui.message.focus();

/** Replaces the thinking line (while a send waits for an earlier attempt, say). */
export function setThinking(text) {
  ui.thinking.textContent = text;
}

function renderBusy() {
  const busy = isBusy();
  renderSend();
  ui.thinking.hidden = !busy;
  ui.thinking.textContent = THINKING;
  renderRetry();
}

/** Send waits for the files being uploaded: a message names a file by the id its upload returns. */
function renderSend() {
  const uploading = uploadsPending();
  ui.send.disabled = isBusy() || uploading;
  ui.send.title = uploading ? 'Waiting for the attached files to finish uploading' : '';
}

/** The Retry button: shown while a send of unknown outcome can be sent again with its key. */
export function renderRetry() {
  ui.retry.hidden = !retryOffer() || isBusy() || needsKey();
}

/**
 * Wires the composer. send({retry}) sends the box's message, or with retry the one offered for
 * retry; onEdit(text) is told of every change to the box.
 */
export function initConversation({ send, onEdit }) {
  on('busy', renderBusy);
  on('retry', renderRetry);
  on('attachments', renderSend);
  // Without a key the retry could not be sent: the key area asks for one instead.
  onKeyChange(renderRetry);
  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  ui.retry.addEventListener('click', () => send({ retry: true }));
  ui.message.addEventListener('input', () => onEdit(ui.message.value));
  ui.message.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
}
