import { ValidationFailed } from '../common/errors.js';
import type { ChatSessionEntity } from './chat-session.entity.js';

/** Where a page of sessions ended: opaque to clients (base64url of JSON). */
export interface SessionCursor {
  createdAt: string;
  chatId: string;
}

export function encodeSessionCursor(session: ChatSessionEntity): string {
  return Buffer.from(JSON.stringify([session.createdAt.toISOString(), session.chatId])).toString('base64url');
}

export function decodeSessionCursor(cursor: string | undefined): SessionCursor | null {
  if (cursor === undefined) return null;
  try {
    const [createdAt, chatId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof chatId === 'string' && !Number.isNaN(Date.parse(createdAt))) {
      return { createdAt, chatId };
    }
  } catch {
    // falls through to the validation error
  }
  throw new ValidationFailed('after: not a cursor returned by this API');
}
