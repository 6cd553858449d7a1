import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { actsFor, callerScope } from '../access/caller.js';
import type { Caller } from '../access/caller.js';
import { ChatNotFound, SessionNotFound } from '../common/errors.js';
import { pageOf } from '../common/paging.js';
import type { Page } from '../common/paging.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { RateLimiter } from '../coordination/rate-limiter.js';
import { now } from '../core/clock.js';
import type { IdempotentRequest } from '../idempotency/idempotency-key.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { ConversationCache } from '../messages/conversation-cache.js';
import type { Message } from '../messages/message.js';
import { MessagesService } from '../messages/messages.service.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import type { UsersRepository } from '../users/users.repository.js';
import { ANONYMOUS_USER_ID } from '../users/user.js';
import { UsersService } from '../users/users.service.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../common/keyset-cursor.js';
import { EMPTY_TOTALS } from './session.js';
import type { Session, SessionChanges, SessionWithOwner, Truncation } from './session.js';
import { TurnStreams } from '../streams/turn-streams.js';
import { SessionsRepository } from './sessions.repository.js';
import type { TurnSession, TurnTarget } from './turn-target.js';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NewSession {
  /** The id to store it under; a new one by default. */
  id?: string;
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
    private readonly messages: MessagesService,
    private readonly conversations: ConversationCache,
    private readonly users: UsersService,
    private readonly idempotency: IdempotencyService,
    private readonly rateLimiter: RateLimiter,
    private readonly unitOfWork: UnitOfWork<{ users: UsersRepository; sessions: SessionsRepository; idempotency: IdempotencyRepository }>,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly streams: TurnStreams,
  ) {}

  /** A session that is not stored yet: a new chat's is stored with its first turn. */
  private draft(input: NewSession): Session {
    const createdAt = now();
    return {
      id: input.id ?? randomUUID(),
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

  /**
   * Stores a new session, creating its user when unknown; once per Idempotency-Key (a repeat
   * answers the first one's). It counts against the caller's RATE_LIMIT_PER_MINUTE as a turn
   * does (429, nothing stored).
   */
  async create(caller: Caller, input: NewSession, request: IdempotentRequest): Promise<Session> {
    const session = this.draft(input);
    const scope = callerScope(caller, session.userId);
    const claim = await this.idempotency.claim<Session>(
      scope,
      request,
      { create: 'session', input },
      {
        userId: session.userId,
        sessionId: session.id,
      },
    );
    if (claim.replayed) return claim.value;
    try {
      // Counted after the claim, as a turn is: a replay is never refused, and a refusal gives the key up.
      await this.rateLimiter.take(scope);
      await this.unitOfWork.commit(async (tx) => {
        await tx.users.ensureExists(session.userId, session.createdAt);
        await tx.sessions.insert(session);
        await claim.hold.settleIn(tx, session);
      });
    } catch (error) {
      await claim.hold.abandon(error);
      throw error;
    }
    return session;
  }

  /**
   * The one ownership lookup: the session if the caller may act for its owner — and, when
   * `ownerId` is given (the /chat API names the user), if it is that user's. Otherwise the same
   * 404 as a session that does not exist, whatever the id looks like.
   */
  async getFor(caller: Caller, sessionId: string, ownerId?: string): Promise<Session> {
    return (await this.getWithOwnerFor(caller, sessionId, ownerId)).session;
  }

  /**
   * The session a turn goes to, with what its owner's limits need, in one read: a stored one the
   * caller may use (404 otherwise), or a new chat's draft — its owner looked up, since they may
   * be a user already, with a limit of their own.
   */
  async resolveTarget(caller: Caller, target: TurnTarget): Promise<TurnSession> {
    switch (target.kind) {
      case 'session':
        return { kind: 'stored', ...(await this.getWithOwnerFor(caller, target.sessionId)) };
      case 'chat':
        return { kind: 'stored', ...(await this.getWithOwnerFor(caller, target.sessionId, target.ownerId)) };
      case 'new-chat': {
        const owner = await this.users.find(target.ownerId);
        const session = this.draft({ id: target.sessionId, userId: target.ownerId });
        return { kind: 'draft', session, ownerDailyBudgetNanoUsd: owner?.dailyBudgetNanoUsd ?? null, ownerExisted: owner !== null };
      }
    }
  }

  private async getWithOwnerFor(caller: Caller, sessionId: string, ownerId?: string): Promise<SessionWithOwner> {
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

  /** A session the caller may use (404 otherwise), and its streamed turn running now (null: none). */
  async withActiveTurn(caller: Caller, sessionId: string): Promise<{ session: Session; activeTurnId: string | null }> {
    const session = await this.getFor(caller, sessionId);
    return { session, activeTurnId: (await this.streams.activeTurns([session.id])).get(session.id) ?? null };
  }

  /** A user's sessions, newest first, a page at a time; with the streamed turn running in each, by session id. */
  async list(
    userId: string,
    limit: number,
    after: string | undefined,
  ): Promise<{ sessions: Page<Session>; activeTurns: Map<string, string> }> {
    const sessions = pageOf(await this.sessions.pageForUser(userId, limit + 1, decodeKeysetCursor(after)), limit, encodeKeysetCursor);
    return { sessions, activeTurns: await this.streams.activeTurns(sessions.data.map((session) => session.id)) };
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
    await this.unitOfWork.commit(({ sessions }) => sessions.update(sessionId, { ...given, updatedAt: updated.updatedAt }));
    return updated;
  }

  /** Removes the session, every message of it and the remembered results that hold them. */
  async delete(caller: Caller, sessionId: string): Promise<void> {
    await this.getFor(caller, sessionId);
    await this.unitOfWork.commit(async ({ sessions, idempotency }) => {
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
    return { session, messages: await this.messages.withDeletedFiles(messages) };
  }

  /** Messages after the message id `afterId`, in order. */
  async messagesPage(caller: Caller, sessionId: string, limit: number, afterId: number | null): Promise<Page<Message>> {
    const session = await this.getFor(caller, sessionId);
    return pageOf(await this.messages.page(session.id, limit + 1, afterId), limit, (message) => String(message.id));
  }
}
