import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import { CoordinationRepository } from '../coordination/coordination.repository.js';
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

type Work<T> = (repositories: Repositories) => Promise<T>;

/** A unit of work waiting for its turn on SQLite's one connection. */
interface Waiting {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Units stored by one commit at most (a bound on one transaction's size). */
const LARGEST_GROUP = 256;

/**
 * Every write goes through here: one short transaction, its repositories handed to `work`.
 * Never hold one across a call to Gemini.
 *
 * PostgreSQL runs units of work side by side, each its own transaction. TypeORM's SQLite driver
 * shares one connection, so there they queue (they take microseconds) — and those that queue up
 * together are committed together: each in a savepoint of one transaction (one failing undoes
 * only its own writes), one COMMIT, so one fsync stores them all. None of them is answered
 * before that commit. A unit alone is a plain transaction.
 *
 * A unit's work awaits nothing but its statements (better-sqlite3 runs them at once), so a whole
 * group runs within one turn of the event loop: nothing else reads the shared connection while
 * a group is open, and no unit waits on another's slowness.
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger(UnitOfWork.name);
  private readonly serialise: boolean;
  private readonly waiting: Waiting[] = [];
  private committing = false;

  constructor(private readonly dataSource: DataSource) {
    this.serialise = dataSource.options.type !== 'postgres';
  }

  run<T>(work: Work<T>): Promise<T> {
    if (!this.serialise) return this.transaction(work);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.committing) return;
      this.committing = true;
      // Units that become ready in this turn of the event loop join the first group.
      setImmediate(() => void this.commitWaiting());
    });
  }

  private async transaction<T>(work: Work<T>): Promise<T> {
    const committed: (() => void)[] = [];
    const result = await this.dataSource.transaction((manager) => work(repositoriesOf(manager, (callback) => committed.push(callback))));
    this.afterCommit(committed);
    return result;
  }

  /** What was committed is stored whatever these do: a callback failing is logged, never the unit's outcome. */
  private afterCommit(callbacks: (() => void)[]): void {
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        this.logger.error(`after a commit: ${String(error)}`);
      }
    }
  }

  private async commitWaiting(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, LARGEST_GROUP);
        if (group.length === 1) {
          await this.transaction(group[0].work).then(group[0].resolve, (error: unknown) => {
            this.resynchronise();
            group[0].reject(error);
          });
        } else {
          await this.commitGroup(group);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  /**
   * SQLite ends a transaction on its own on some errors (disk full, I/O error, a trigger's
   * RAISE(ROLLBACK)). TypeORM's ROLLBACK then fails, quietly, and its one query runner goes on
   * believing a transaction is open: its next transaction would be a savepoint, which an ordinary
   * failure's ROLLBACK TO leaves open — and every unit after it would be answered as stored
   * without ever being committed. After a failure (units run one group at a time, so none is
   * open), the connection and the runner are put back in step: no transaction.
   */
  private resynchronise(): void {
    const driver = this.dataSource.driver as unknown as {
      databaseConnection: { inTransaction: boolean; exec(sql: string): void };
      queryRunner?: { isTransactionActive: boolean; transactionDepth: number };
    };
    if (driver.databaseConnection.inTransaction) driver.databaseConnection.exec('ROLLBACK');
    if (driver.queryRunner) {
      driver.queryRunner.isTransactionActive = false;
      driver.queryRunner.transactionDepth = 0;
    }
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    const outcomes: ({ stored: true; value: unknown; committed: (() => void)[] } | { stored: false; error: unknown })[] = [];
    try {
      await this.dataSource.transaction(async (manager) => {
        for (const { work } of group) {
          const committed: (() => void)[] = [];
          await manager.query('SAVEPOINT unit_of_work');
          try {
            const value = await work(repositoriesOf(manager, (callback) => committed.push(callback)));
            await manager.query('RELEASE unit_of_work');
            outcomes.push({ stored: true, value, committed });
          } catch (error) {
            try {
              await manager.query('ROLLBACK TO unit_of_work');
              await manager.query('RELEASE unit_of_work');
            } catch {
              // SQLite rolled the whole transaction back (disk full, I/O error): the group fails
              // with the error that did it.
              throw error;
            }
            outcomes.push({ stored: false, error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed, or SQLite ended the transaction: nothing of the group is stored.
      this.resynchronise();
      for (const unit of group) unit.reject(error);
      return;
    }
    group.forEach((unit, i) => {
      const outcome = outcomes[i];
      if (!outcome.stored) return unit.reject(outcome.error);
      this.afterCommit(outcome.committed);
      unit.resolve(outcome.value);
    });
  }
}
