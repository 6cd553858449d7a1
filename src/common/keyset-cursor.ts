import { ValidationFailed } from './errors.js';

/**
 * Where a page of a user's things, newest first, ended (sessions, files): the last one's
 * creation time and id, opaque to clients (base64url of JSON).
 */
export interface KeysetCursor {
  createdAt: string;
  id: string;
}

export function encodeKeysetCursor(item: KeysetCursor): string {
  return Buffer.from(JSON.stringify([item.createdAt, item.id])).toString('base64url');
}

export function decodeKeysetCursor(cursor: string | undefined): KeysetCursor | null {
  if (cursor === undefined) return null;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(createdAt))) {
      return { createdAt, id };
    }
  } catch {
    // falls through to the validation error
  }
  throw new ValidationFailed('after: not a cursor returned by this API');
}
