import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { assertActsFor } from '../auth/caller.js';
import type { Caller } from '../auth/caller.js';
import { ChatNotFound, SessionNotFound } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import type { AppConfig } from '../config/app.config.js';
import { MessagesService } from '../messages/messages.service.js';
import { ANONYMOUS_USER_ID, UsersService } from '../users/users.service.js';
import { ChatSessionEntity } from './chat-session.entity.js';
import type { SessionCursor } from './session-cursor.js';

export interface SessionChanges {
  title?: string | null;
  model?: string;
  systemInstruction?: string | null;
}

export interface NewSession {
  userId?: string;
  title?: string | null;
  model?: string;
  systemInstruction?: string | null;
}

@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(ChatSessionEntity) private readonly sessions: Repository<ChatSessionEntity>,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly transactions: TransactionRunner,
    private readonly messages: MessagesService,
  ) {}

  /** A session object that is not stored yet; `insert` stores it. */
  build(input: NewSession): ChatSessionEntity {
    const now = new Date();
    return this.sessions.create({
      chatId: randomUUID(),
      userId: input.userId ?? ANONYMOUS_USER_ID,
      title: input.title ?? null,
      model: input.model ?? this.config.gemini.model,
      systemInstruction: input.systemInstruction ?? null,
      createdAt: now,
      updatedAt: now,
    });
  }

  /** Stores a built session, creating its user when unknown, in the caller's transaction. */
  async insert(session: ChatSessionEntity, manager: EntityManager = this.sessions.manager): Promise<void> {
    await this.users.ensure(session.userId, manager);
    await manager.getRepository(ChatSessionEntity).insert(session);
  }

  async create(input: NewSession): Promise<ChatSessionEntity> {
    const session = this.build(input);
    await this.transactions.run((manager) => this.insert(session, manager));
    return session;
  }

  async get(sessionId: string): Promise<ChatSessionEntity> {
    const session = await this.sessions.findOneBy({ chatId: sessionId });
    if (!session) throw new SessionNotFound(sessionId);
    return session;
  }

  /** The session if the caller may act for its owner; otherwise the same 404 as a missing one. */
  async getFor(caller: Caller, sessionId: string): Promise<ChatSessionEntity> {
    const session = await this.get(sessionId);
    assertActsFor(caller, session.userId, () => new SessionNotFound(sessionId));
    return session;
  }

  /** The chat if it belongs to the user; "not yours" and "does not exist" are the same 404. */
  async getOwned(chatId: string, userId: string): Promise<ChatSessionEntity> {
    const session = await this.sessions.findOneBy({ chatId, userId });
    if (!session) throw new ChatNotFound(chatId);
    return session;
  }

  /**
   * A user's sessions, newest first, from after `cursor`. Keyset paging on (created_at, chat_id),
   * so rows added or removed meanwhile never make a page skip or repeat one.
   */
  async pageForUser(userId: string, limit: number, cursor: SessionCursor | null): Promise<ChatSessionEntity[]> {
    const query = this.sessions
      .createQueryBuilder('s')
      .where('s.user_id = :userId', { userId })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.chat_id', 'DESC')
      .limit(limit);
    if (cursor) {
      query.andWhere('(s.created_at < :createdAt OR (s.created_at = :createdAt AND s.chat_id < :chatId))', cursor);
    }
    return query.getMany();
  }

  /** Applies the given changes to a loaded session (fields left undefined stay as they are). */
  async update(session: ChatSessionEntity, changes: SessionChanges): Promise<ChatSessionEntity> {
    const given = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    const updated = { ...session, ...given, updatedAt: new Date() };
    await this.transactions.run((manager) =>
      manager.getRepository(ChatSessionEntity).update({ chatId: session.chatId }, { ...given, updatedAt: updated.updatedAt }),
    );
    return updated;
  }

  /** Removes the session and every message of it. */
  async delete(session: ChatSessionEntity): Promise<void> {
    const sessionId = session.chatId;
    await this.transactions.run(async (manager) => {
      await this.messages.deleteForSessions([sessionId], manager);
      await manager.getRepository(ChatSessionEntity).delete({ chatId: sessionId });
    });
  }

  /** Removes a user with every session and message of theirs. */
  async deleteUser(userId: string): Promise<void> {
    await this.users.get(userId);
    await this.transactions.run(async (manager) => {
      const sessions = await manager.getRepository(ChatSessionEntity).find({ select: { chatId: true }, where: { userId } });
      await this.messages.deleteForSessions(sessions.map((session) => session.chatId), manager);
      await manager.getRepository(ChatSessionEntity).delete({ userId });
      await this.users.delete(userId, manager);
    });
  }

  /** The user's chat ids, oldest first. */
  async listIdsForUser(userId: string): Promise<string[]> {
    const rows = await this.sessions.find({
      select: { chatId: true },
      where: { userId },
      order: { createdAt: 'ASC', chatId: 'ASC' },
    });
    return rows.map((row) => row.chatId);
  }

  /** Marks a turn on the session; a session deleted while Gemini answered is a 404. */
  async recordTurn(
    chatId: string,
    changes: { updatedAt: Date; title: string | null },
    manager: EntityManager,
  ): Promise<void> {
    const result = await manager.getRepository(ChatSessionEntity).update({ chatId }, changes);
    if (!result.affected) throw new SessionNotFound(chatId);
  }
}
