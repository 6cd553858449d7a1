import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import { CoordinationRepository } from '../cluster/coordination.repository.js';
import { KeyedSerializer } from '../common/keyed-serializer.js';
import { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { MessagesRepository } from '../messages/messages.repository.js';
import { SessionsRepository } from '../sessions/sessions.repository.js';
import { UsageRepository } from '../usage/usage.repository.js';
import { UsersRepository } from '../users/users.repository.js';

/** The repositories a write transaction hands to its work, all bound to that transaction. */
export interface Repositories {
  users: UsersRepository;
  sessions: SessionsRepository;
  messages: MessagesRepository;
  apiKeys: ApiKeysRepository;
  idempotency: IdempotencyRepository;
  usage: UsageRepository;
  coordination: CoordinationRepository;
  /** Runs `callback` once the transaction has committed (never if it rolls back). */
  afterCommit(callback: () => void): void;
}

function repositoriesOf(manager: EntityManager, afterCommit: (callback: () => void) => void): Repositories {
  return {
    afterCommit,
    users: new UsersRepository(manager),
    sessions: new SessionsRepository(manager),
    messages: new MessagesRepository(manager),
    apiKeys: new ApiKeysRepository(manager),
    idempotency: new IdempotencyRepository(manager),
    usage: new UsageRepository(manager),
    coordination: new CoordinationRepository(manager),
  };
}

/**
 * Every write goes through here: one short transaction, its repositories handed to `work`.
 * Never hold one across a call to Gemini.
 *
 * TypeORM's SQLite driver shares one connection, so two overlapping transactions would nest as
 * savepoints of each other (and a write outside a transaction would land inside another's):
 * on SQLite units of work are queued (they take microseconds). PostgreSQL runs them side by side.
 */
@Injectable()
export class UnitOfWork {
  private readonly queue = new KeyedSerializer();
  private readonly serialise: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.serialise = dataSource.options.type !== 'postgres';
  }

  run<T>(work: (repositories: Repositories) => Promise<T>): Promise<T> {
    const transaction = async () => {
      const committed: (() => void)[] = [];
      const result = await this.dataSource.transaction((manager) => work(repositoriesOf(manager, (callback) => committed.push(callback))));
      for (const callback of committed) callback();
      return result;
    };
    return this.serialise ? this.queue.run('write', transaction) : transaction();
  }
}
