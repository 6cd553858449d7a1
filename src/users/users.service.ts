import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { UserExists, UserNotFound } from '../common/errors.js';
import { now } from '../core/clock.js';
import { isUniqueViolation } from '../database/errors.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { deleteAtGemini, LlmClient } from '../gemini/llm-client.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import type { User } from './user.js';
import { UsersRepository } from './users.repository.js';

export interface NewUser {
  userId?: string;
  username?: string | null;
  email?: string | null;
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly users: UsersRepository,
    private readonly unitOfWork: UnitOfWork<{ users: UsersRepository; idempotency: IdempotencyRepository }>,
    private readonly llm: LlmClient,
  ) {}

  async create(input: NewUser): Promise<User> {
    const user: User = {
      userId: input.userId ?? randomUUID(),
      username: input.username ?? null,
      email: input.email ?? null,
      createdAt: now(),
      dailyBudgetNanoUsd: null,
    };
    try {
      await this.unitOfWork.commit(({ users }) => users.insert(user));
    } catch (error) {
      if (isUniqueViolation(error)) throw new UserExists(user.userId);
      throw error;
    }
    return user;
  }

  /** The user, or null when there is none. */
  find(userId: string): Promise<User | null> {
    return this.users.findById(userId);
  }

  async get(userId: string): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user) throw new UserNotFound(userId);
    return user;
  }

  /** Sets (or with null, removes) the user's own daily limit. */
  async setDailyBudget(userId: string, dailyBudgetNanoUsd: number | null): Promise<User> {
    const user = await this.get(userId);
    await this.unitOfWork.commit(({ users }) => users.setDailyBudget(userId, dailyBudgetNanoUsd));
    return { ...user, dailyBudgetNanoUsd };
  }

  /** Removes a user with every session, message and API key of theirs, and the remembered results that hold them. */
  async delete(userId: string): Promise<void> {
    await this.get(userId);
    // Their files go with them (the foreign keys cascade); their copies at Gemini are deleted after.
    const copies = await this.unitOfWork.commit(async ({ users, idempotency }) => {
      const names = await users.geminiCopiesOf(userId);
      await users.delete(userId);
      await idempotency.deleteForUser(userId);
      return names;
    });
    deleteAtGemini(this.llm, this.logger, copies);
  }
}
