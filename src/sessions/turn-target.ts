import { randomUUID } from 'node:crypto';
import type { Session } from './session.js';

/**
 * Where a turn goes, as its route names it. Every target has the session id its turn takes its
 * place in line under, known on arrival — a new chat's too: the id its session will be stored
 * under, made here.
 */
export type TurnTarget =
  /** POST /sessions/:id/messages: a session the caller may use. */
  | { kind: 'session'; sessionId: string }
  /** POST /chat with a chat_id: that user's session. */
  | { kind: 'chat'; sessionId: string; ownerId: string }
  /** POST /chat without one: a new session of that user, stored only if the turn succeeds. */
  | { kind: 'new-chat'; sessionId: string; ownerId: string };

/** The target of a POST /chat: a `chat_id` absent or null starts a new chat, as the original API did. */
export function chatTarget(ownerId: string, chatId: string | null | undefined): TurnTarget {
  return chatId == null ? { kind: 'new-chat', sessionId: randomUUID(), ownerId } : { kind: 'chat', sessionId: chatId, ownerId };
}

/** The session a turn runs on, as resolved for it (once, by SessionsService.resolveTarget). */
export type TurnSession =
  | {
      kind: 'stored';
      session: Session;
      /** The owner's own daily limit (null: the configured default), read with the session. */
      ownerDailyBudgetNanoUsd: number | null;
    }
  | {
      /** Not stored yet: stored with its first turn, if that succeeds. */
      kind: 'draft';
      session: Session;
      ownerDailyBudgetNanoUsd: number | null;
      /** Its owner was a user already when the turn arrived (deleted meanwhile, they stay deleted). */
      ownerExisted: boolean;
    };
