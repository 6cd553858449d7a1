// The files attached to the message being written: a chip each (name, type, size; uploading, or
// the API's reason for refusing it; a remove button), and the three ways to attach — the Attach
// button (a hidden file input), dropping files on the composer, pasting files into the box.
// It renders state.js's attachments and raises intents (attach, detach); uploads are attachments.js's.

import { $, span } from '../dom.js';
import { formatBytes, plural } from '../format.js';
import { PICKER_ACCEPT } from '../media-types.js';
import { draftAttachments, MAX_ATTACHMENTS, on } from '../state.js';

const ui = {
  composer: $('composer'),
  message: $('message'),
  list: $('attachments'),
  status: $('attach-status'),
  button: $('attach'),
  input: $('attach-input'),
};

/** True when a drag (or a paste) carries files, not only text: only those are attachments. */
const carriesFiles = (transfer) => Boolean(transfer) && [...transfer.types].includes('Files');

function render() {
  const attachments = draftAttachments();
  ui.list.replaceChildren(...attachments.map(chip));
  ui.list.hidden = attachments.length === 0;
  ui.button.disabled = attachments.length >= MAX_ATTACHMENTS;
  ui.button.title = ui.button.disabled
    ? `At most ${MAX_ATTACHMENTS} files a message`
    : 'Attach files (or drop them on the message box, or paste them into it)';
}

function chip(attachment) {
  const item = document.createElement('li');
  item.className = 'attachment';
  item.dataset.status = attachment.status;
  item.dataset.attachmentId = String(attachment.id);
  if (attachment.file) item.dataset.fileId = attachment.file.file_id;
  const name = span('attachment-name', attachment.name);
  name.title = attachment.name;
  item.append(name, span('attachment-type', attachment.type), span('attachment-size', formatBytes(attachment.size)));
  if (attachment.status === 'uploading') {
    // fetch reports no upload progress: the bar says "under way", not how far.
    const progress = document.createElement('progress');
    progress.className = 'attachment-progress';
    progress.setAttribute('aria-label', `Uploading ${attachment.name}`);
    item.append(progress);
    item.setAttribute('aria-busy', 'true');
  }
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'attachment-remove';
  remove.textContent = '×';
  remove.setAttribute('aria-label', `Remove ${attachment.name}`);
  remove.dataset.remove = String(attachment.id);
  item.append(remove);
  if (attachment.status === 'failed') {
    // The API's own words (415 names the type declared and the one found; 413 the limit), on a
    // line of their own under the chip's name and its remove button.
    const error = span('attachment-error', attachment.error?.message ?? String(attachment.error));
    if (attachment.error?.code) error.title = attachment.error.code;
    item.append(error);
  }
  return item;
}

function say(text) {
  ui.status.textContent = text;
  ui.status.hidden = !text;
}

/** Wires the attachments. attach(files) → how many did not fit; detach(id). */
export function initComposerAttachments({ attach, detach }) {
  const take = (files) => {
    if (!files?.length) return;
    const left = attach(files);
    say(left > 0 ? `At most ${MAX_ATTACHMENTS} files a message: ${plural(left, 'file')} not attached.` : '');
  };

  on('attachments', render);
  render();

  ui.input.accept = PICKER_ACCEPT;
  ui.button.addEventListener('click', () => ui.input.click());
  ui.input.addEventListener('change', () => {
    take(ui.input.files);
    // Emptied, so that choosing the same file again (after removing it) is a change too.
    ui.input.value = '';
  });

  ui.list.addEventListener('click', (event) => {
    const id = event.target.closest('[data-remove]')?.dataset.remove;
    if (!id) return;
    say('');
    detach(Number(id));
    // The button is gone with its chip: the box keeps the focus rather than the page.
    ui.message.focus();
  });

  // Pasting files (a screenshot, files copied in a file manager) attaches them; pasting text is
  // left to the box as ever.
  ui.composer.addEventListener('paste', (event) => {
    const files = event.clipboardData?.files;
    if (!files?.length) return;
    event.preventDefault();
    take(files);
  });

  wireDrop(take);
}

/** Files dragged over the composer light it up; dropped there, they are attached. */
function wireDrop(take) {
  const highlight = (lit) => ui.composer.classList.toggle('is-drop-target', lit);
  ui.composer.addEventListener('dragover', (event) => {
    if (!carriesFiles(event.dataTransfer)) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = 'copy';
    highlight(true);
  });
  ui.composer.addEventListener('dragleave', (event) => {
    // Moving between the composer's own children fires dragleave too.
    if (!ui.composer.contains(event.relatedTarget)) highlight(false);
  });
  ui.composer.addEventListener('drop', (event) => {
    highlight(false);
    if (!carriesFiles(event.dataTransfer)) return;
    event.preventDefault();
    take(event.dataTransfer.files);
  });
  // Files dropped anywhere else would make the browser open them in place of the chat.
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event.dataTransfer) || ui.composer.contains(event.target)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'none';
  });
  document.addEventListener('drop', (event) => {
    if (carriesFiles(event.dataTransfer) && !ui.composer.contains(event.target)) event.preventDefault();
  });
}
