import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { ChatNotFound, SessionNotFound } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import type { AppConfig } from '../config/app.config.js';
import { ANONYMOUS_USER_ID, UsersService } from '../users/users.service.js';
import { ChatSessionEntity } from './chat-session.entity.js';

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

  /** The chat if it belongs to the user; "not yours" and "does not exist" are the same 404. */
  async getOwned(chatId: string, userId: string): Promise<ChatSessionEntity> {
    const session = await this.sessions.findOneBy({ chatId, userId });
    if (!session) throw new ChatNotFound(chatId);
    return session;
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

  async touch(chatId: string, at: Date, manager: EntityManager): Promise<void> {
    await manager.getRepository(ChatSessionEntity).update({ chatId }, { updatedAt: at });
  }
}
