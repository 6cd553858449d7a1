import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { UserExists, UserNotFound } from '../common/errors.js';
import { isUniqueViolation } from '../database/errors.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { UserEntity } from './user.entity.js';

/** Owner of sessions created without a user id. */
export const ANONYMOUS_USER_ID = 'anonymous';

export interface NewUser {
  userId?: string;
  username?: string | null;
  email?: string | null;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly transactions: TransactionRunner,
  ) {}

  async create(input: NewUser): Promise<UserEntity> {
    const user = this.users.create({
      userId: input.userId ?? randomUUID(),
      username: input.username ?? null,
      email: input.email ?? null,
      createdAt: new Date(),
      dailyBudgetNanoUsd: null,
    });
    try {
      // Every write goes through the runner: on SQLite it shares one connection with turns.
      await this.transactions.run((manager) => manager.getRepository(UserEntity).insert(user));
    } catch (error) {
      if (isUniqueViolation(error)) throw new UserExists(user.userId);
      throw error;
    }
    return user;
  }

  async get(userId: string): Promise<UserEntity> {
    const user = await this.users.findOneBy({ userId });
    if (!user) throw new UserNotFound(userId);
    return user;
  }

  /** The user, or null: a /chat turn's user is created only when the turn succeeds. */
  find(userId: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ userId });
  }

  /** Sets (or with null, removes) the user's own daily limit. */
  async setDailyBudget(userId: string, nanoUsd: number | null): Promise<UserEntity> {
    await this.get(userId);
    await this.transactions.run((manager) => manager.getRepository(UserEntity).update({ userId }, { dailyBudgetNanoUsd: nanoUsd }));
    return this.get(userId);
  }

  async delete(userId: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(UserEntity).delete({ userId });
  }

  /** Creates the user when unknown (the original /chat contract); safe against races. */
  async ensure(userId: string, manager: EntityManager): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(UserEntity)
      .values({ userId, username: null, email: null, createdAt: new Date(), dailyBudgetNanoUsd: null })
      .orIgnore()
      .execute();
  }
}
