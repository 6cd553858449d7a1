// The conversation: the messages of the open session, the thinking line, and the composer with
// its Send and Retry buttons. Every piece of API data is put on the page as text (textContent),
// never parsed as HTML, but for a model reply: that is Markdown, rendered by markdown.js into
// sanitized elements — as it streams (the text so far, rendered again with every delta), and
// once more from the stored message when it is done. A user message's files are drawn by
// message-attachments.js. While a reply streams, Stop cancels its turn.

import { $ } from '../dom.js';
import { formatMeta } from '../format.js';
import { needsKey, onKeyChange } from '../api.js';
import { renderMarkdown } from '../markdown.js';
import { isBusy, on, retryOffer, runningTurn, uploadsPending } from '../state.js';
import { releaseAllAttachments, releaseAttachments, renderAttachments } from './message-attachments.js';

const THINKING = 'Gemini is thinking…';

const ui = {
  messages: $('messages'),
  thinking: $('thinking'),
  composer: $('composer'),
  message: $('message'),
  send: $('send'),
  stop: $('stop'),
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
  // A reply whose turn was stopped (Stop, or a cancel from elsewhere): what was written by then.
  if (message.finish_reason === 'CANCELLED') item.dataset.stopped = 'true';
  else delete item.dataset.stopped;
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

/**
 * Shows the reply so far, as Markdown (an unfinished table or list is drawn as far as it goes);
 * the page keeps following it if it was at the bottom.
 */
export function showPartialReply(reply, text) {
  const follow = atBottom();
  reply.querySelector('.reply-text').replaceChildren(renderMarkdown(text));
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
  if (reply) {
    delete reply.dataset.streaming;
    reply.removeAttribute('aria-busy');
  }
  const done = reply ?? appendMessage(turn.model_message);
  if (reply) renderMessage(reply, turn.model_message);
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

/** Stop: shown while a turn of the open session runs and the server has named it. */
function renderStop() {
  const turn = runningTurn();
  ui.stop.hidden = !turn;
  ui.stop.disabled = Boolean(turn?.stopping);
  ui.stop.textContent = turn?.stopping ? 'Stopping…' : 'Stop';
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
 * retry; stop() stops the running turn; onEdit(text) is told of every change to the box.
 */
export function initConversation({ send, stop, onEdit }) {
  on('busy', renderBusy);
  on('running', renderStop);
  ui.stop.addEventListener('click', () => stop());
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
