import { ValidationFailed } from '../common/errors.js';
import type { Session } from './session.js';

/** Where a page of sessions ended: opaque to clients (base64url of JSON). */
export interface SessionCursor {
  createdAt: string;
  id: string;
}

export function encodeSessionCursor(session: Session): string {
  return Buffer.from(JSON.stringify([session.createdAt, session.id])).toString('base64url');
}

export function decodeSessionCursor(cursor: string | undefined): SessionCursor | null {
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
