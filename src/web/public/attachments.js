// Attaching files to the message being written: each is uploaded (POST /files) as soon as it is
// attached, for the user whose session it will go to, and becomes a File the turn names by id.
// What is attached, and how each upload went, is state.js's; this module only talks to the API.

import * as api from './api.js';
import { declaredType } from './media-types.js';
import { addAttachment, attachmentFailed, attachmentRoom, attachmentStored, currentSession, removeAttachment } from './state.js';
import { currentUserId } from './views/session-form.js';

/** The uploads under way, by attachment id: removing an attachment stops its upload. */
const uploads = new Map();

/**
 * Attaches `files` (a FileList or File[]) in order, as many as there is room for; resolves to how
 * many did not fit. The owner is the open session's user (a turn may only name its own user's
 * files), or, with no session open, the user a new session would be made for.
 */
export function attachFiles(files) {
  const list = [...files];
  const room = Math.max(0, attachmentRoom());
  const userId = currentSession()?.user_id ?? currentUserId();
  for (const file of list.slice(0, room)) upload(userId, file);
  return list.length - Math.min(room, list.length);
}

/** The API keeps names of 1 to 255 characters: a longer one keeps its start and its extension. */
function nameOf(file) {
  const name = file.name || 'file';
  if (name.length <= 255) return name;
  const extension = /\.[^.]{1,16}$/.exec(name)?.[0] ?? '';
  // A cut in the middle of a surrogate pair would leave half a character.
  return name.slice(0, 255 - extension.length).replace(/[\ud800-\udbff]$/, '') + extension;
}

async function upload(userId, file) {
  const type = declaredType(file.name, file.type);
  const name = nameOf(file);
  const id = addAttachment({ name, type, size: file.size, owner: userId });
  if (id === null) return;
  const controller = new AbortController();
  uploads.set(id, controller);
  try {
    attachmentStored(id, await api.uploadFile(userId, file, { name, type, signal: controller.signal }));
  } catch (error) {
    if (!controller.signal.aborted) attachmentFailed(id, error);
  } finally {
    uploads.delete(id);
  }
}

/** Takes attachment `id` off the message; an upload still running is stopped. */
export function detach(id) {
  uploads.get(id)?.abort();
  removeAttachment(id);
}
