import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { actsFor, callerScope } from '../auth/caller.js';
import type { Caller } from '../auth/caller.js';
import { ChatNotFound, SessionNotFound } from '../common/errors.js';
import { pageOf } from '../common/paging.js';
import type { Page } from '../common/paging.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { now } from '../core/clock.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { Repositories } from '../database/unit-of-work.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import type { Replayable } from '../idempotency/idempotency.service.js';
import type { Message } from '../messages/message.js';
import { MessagesRepository } from '../messages/messages.repository.js';
import { ConversationCache } from '../messages/conversation-cache.js';
import { ANONYMOUS_USER_ID } from '../users/user.js';
import { decodeSessionCursor, encodeSessionCursor } from './session-cursor.js';
import { EMPTY_TOTALS } from './session.js';
import type { Session, SessionChanges, SessionWithOwner, Truncation } from './session.js';
import { SessionsRepository } from './sessions.repository.js';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NewSession {
  userId?: string;
  title?: string | null;
  model?: string;
  systemInstruction?: string | null;
  maxContextTokens?: number | null;
  truncation?: Truncation;
}

@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly messages: MessagesRepository,
    private readonly conversations: ConversationCache,
    private readonly idempotency: IdempotencyService,
    private readonly unitOfWork: UnitOfWork,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /** A session that is not stored yet: a new chat's is stored with its first turn. */
  draft(input: NewSession): Session {
    const createdAt = now();
    return {
      id: randomUUID(),
      userId: input.userId ?? ANONYMOUS_USER_ID,
      title: input.title ?? null,
      model: input.model ?? this.config.gemini.model,
      systemInstruction: input.systemInstruction ?? null,
      maxContextTokens: input.maxContextTokens ?? null,
      truncation: input.truncation ?? 'auto',
      createdAt,
      updatedAt: createdAt,
      contextTokens: null,
      totals: EMPTY_TOTALS,
    };
  }

  /** Stores a drafted session, creating its user when unknown, in the caller's unit of work. */
  async insert({ users, sessions }: Repositories, session: Session): Promise<void> {
    await users.ensureExists(session.userId, session.createdAt);
    await sessions.insert(session);
  }

  async create(caller: Caller, input: NewSession, idempotencyKey?: string): Promise<Replayable<Session>> {
    const scope = callerScope(caller, input.userId ?? ANONYMOUS_USER_ID);
    return this.idempotency.run<Session>(scope, idempotencyKey, { create: 'session', input }, async (claim) => {
      const session = this.draft(input);
      await this.unitOfWork.run(async (repositories) => {
        await this.insert(repositories, session);
        await claim.completeWith(repositories, session, { userId: session.userId, sessionId: session.id });
      });
      return session;
    });
  }

  /**
   * The one ownership lookup: the session if the caller may act for its owner — and, when
   * `ownerId` is given (the /chat API names the user), if it is that user's. Otherwise the same
   * 404 as a session that does not exist, whatever the id looks like.
   */
  async getFor(caller: Caller, sessionId: string, ownerId?: string): Promise<Session> {
    return (await this.getWithOwnerFor(caller, sessionId, ownerId)).session;
  }

  /** As `getFor`, with what the owner's limits need (the same one read): a turn's lookup. */
  async getWithOwnerFor(caller: Caller, sessionId: string, ownerId?: string): Promise<SessionWithOwner> {
    // Session ids are UUIDs the service made: anything else cannot exist, and is not sent to the
    // database (PostgreSQL refuses some strings, a NUL for one, with an error instead of no row).
    const found = SESSION_ID.test(sessionId) ? await this.sessions.findWithOwner(sessionId) : null;
    const owner = found?.session.userId;
    if (ownerId !== undefined) {
      if (!found || owner !== ownerId || !actsFor(caller, ownerId)) throw new ChatNotFound(sessionId);
    } else if (!found || !actsFor(caller, owner!)) {
      throw new SessionNotFound(sessionId);
    }
    return found;
  }

  /** A user's sessions, newest first, a page at a time. */
  async list(userId: string, limit: number, after: string | undefined): Promise<Page<Session>> {
    return pageOf(await this.sessions.pageForUser(userId, limit + 1, decodeSessionCursor(after)), limit, encodeSessionCursor);
  }

  /** Every model some session is set to. */
  modelsInUse(): Promise<string[]> {
    return this.sessions.modelsInUse();
  }

  /** The user's session ids, oldest first (the original /history API). */
  idsForUser(userId: string): Promise<string[]> {
    return this.sessions.idsForUser(userId);
  }

  /** Applies the changes given (undefined fields stay as they are); later turns use them. */
  async update(caller: Caller, sessionId: string, changes: SessionChanges): Promise<Session> {
    const current = await this.getFor(caller, sessionId);
    const given = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as SessionChanges;
    const updated: Session = { ...current, ...given, updatedAt: now() };
    await this.unitOfWork.run(({ sessions }) => sessions.update(sessionId, { ...given, updatedAt: updated.updatedAt }));
    return updated;
  }

  /** Removes the session, every message of it and the remembered results that hold them. */
  async delete(caller: Caller, sessionId: string): Promise<void> {
    await this.getFor(caller, sessionId);
    await this.unitOfWork.run(async ({ sessions, idempotency }) => {
      await sessions.delete(sessionId);
      await idempotency.deleteForSession(sessionId);
    });
    this.conversations.forget(sessionId);
  }

  /** The whole conversation in order. */
  async conversation(caller: Caller, sessionId: string, ownerId?: string): Promise<{ session: Session; messages: readonly Message[] }> {
    const session = await this.getFor(caller, sessionId, ownerId);
    // Deleted in between: the same 404 as if it had never been.
    const messages = await this.conversations.of(session.id);
    if (!messages) throw ownerId === undefined ? new SessionNotFound(sessionId) : new ChatNotFound(sessionId);
    return { session, messages };
  }

  /** Messages after the message id `afterId`, in order. */
  async messagesPage(caller: Caller, sessionId: string, limit: number, afterId: number | null): Promise<Page<Message>> {
    const session = await this.getFor(caller, sessionId);
    return pageOf(await this.messages.page(session.id, limit + 1, afterId), limit, (message) => String(message.id));
  }
}
