// The files of a user message in the conversation: images as thumbnails, other files as chips
// that download, a deleted file as a struck-through chip. The bytes are read with the tab's key
// (fetch → Blob → object URL): an <img src> or a link to the API would go without it. Every
// object URL a message shows is revoked when its attachments are drawn again or the message goes.

import * as api from '../api.js';
import { span } from '../dom.js';
import { formatBytes } from '../format.js';

/** How long a download's object URL outlives its click: the browser reads it after the click returns. */
const DOWNLOAD_URL_MS = 10_000;

/** The object URLs each message element shows (its thumbnails). */
const shown = new Map();

/**
 * Draws `attachments` (the Message's: {file_id, name, mime_type, modality, bytes, deleted}) under
 * the message's text. The same files drawn again (the pending message becoming the stored one)
 * keep what is shown: each image is read once.
 */
export function renderAttachments(item, attachments = []) {
  const signature = JSON.stringify(attachments.map((a) => [a.file_id, Boolean(a.deleted)]));
  let box = item.querySelector(':scope > .message-attachments');
  if (box?.dataset.signature === signature) return;
  releaseAttachments(item);
  box?.remove();
  if (attachments.length === 0) return;
  box = document.createElement('ul');
  box.className = 'message-attachments';
  box.dataset.signature = signature;
  box.setAttribute('aria-label', 'Attachments');
  const urls = [];
  shown.set(item, urls);
  box.append(...attachments.map((a) => (a.deleted ? deletedChip(a) : isImage(a) ? thumbnail(item, urls, a) : downloadChip(a))));
  item.querySelector('.message-text').after(box);
}

/** Revokes the object URLs of a message element that goes (or is drawn again). */
export function releaseAttachments(item) {
  for (const url of shown.get(item) ?? []) URL.revokeObjectURL(url);
  shown.delete(item);
}

/** Revokes every object URL shown: the whole conversation is replaced. */
export function releaseAllAttachments() {
  for (const item of [...shown.keys()]) releaseAttachments(item);
}

const isImage = (a) => a.modality === 'image' || String(a.mime_type).startsWith('image/');
const describe = (a) => `${a.name} · ${a.mime_type} · ${formatBytes(a.bytes)}`;

function entry(a, className) {
  const item = document.createElement('li');
  item.className = className;
  item.dataset.fileId = a.file_id;
  return item;
}

/** An image, shown once its bytes are read; a click downloads it. */
function thumbnail(message, urls, a) {
  const item = entry(a, 'attachment-image');
  item.setAttribute('aria-busy', 'true');
  const button = document.createElement('button');
  button.type = 'button';
  button.title = `${describe(a)} (click to download)`;
  const img = document.createElement('img');
  img.alt = a.name;
  button.append(img);
  item.append(button);
  api.fileContent(a.file_id).then(
    (blob) => {
      // Drawn again or gone meanwhile: this URL would never be revoked.
      if (shown.get(message) !== urls) return;
      const url = URL.createObjectURL(blob);
      urls.push(url);
      img.src = url;
      item.removeAttribute('aria-busy');
      button.addEventListener('click', () => save(url, a.name));
    },
    (error) => {
      if (shown.get(message) === urls) item.replaceWith(downloadChip(a, error));
    },
  );
  // A type the browser cannot draw (HEIC in most) is still a file: offered as a download.
  // Its object URL goes with it: the chip fetches the bytes again when clicked.
  img.addEventListener('error', () => {
    const at = urls.indexOf(img.src);
    if (at >= 0) URL.revokeObjectURL(urls.splice(at, 1)[0]);
    item.replaceWith(downloadChip(a));
  });
  return item;
}

/** A file that downloads on click: its bytes read with the key, saved under its name. */
function downloadChip(a, error = null) {
  const item = entry(a, 'attachment-file');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'attachment';
  button.title = `Download ${a.name}`;
  button.append(span('attachment-name', a.name), span('attachment-type', a.mime_type), span('attachment-size', formatBytes(a.bytes)));
  const problem = span('attachment-error', '');
  const fail = (e) => {
    problem.textContent = e?.message ?? String(e);
    item.append(problem);
  };
  if (error) fail(error);
  button.addEventListener('click', async () => {
    problem.remove();
    button.setAttribute('aria-busy', 'true');
    try {
      const url = URL.createObjectURL(await api.fileContent(a.file_id));
      save(url, a.name);
      setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_MS);
    } catch (e) {
      fail(e);
    } finally {
      button.removeAttribute('aria-busy');
    }
  });
  item.append(button);
  return item;
}

/** A file deleted since the message was sent: its name is all that is left, nothing to download. */
function deletedChip(a) {
  const item = entry(a, 'attachment-file is-deleted');
  const chip = span('attachment', '');
  chip.append(span('attachment-name', a.name), span('attachment-deleted', ' (deleted)'));
  chip.title = `${a.name} was deleted`;
  item.append(chip);
  return item;
}

function save(url, name) {
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
}
