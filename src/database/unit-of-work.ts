import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { SqliteGroupCommit } from './sqlite-group-commit.js';

/** What repositories are bound to: a transaction's, or the data source's for reads. */
export type Manager = EntityManager;

/** What a transaction hands its work besides the repositories bound to it. */
export interface TransactionScope {
  /** Runs `callback` once the transaction has committed (never if it rolls back). */
  afterCommit: (callback: () => void) => void;
}

/** A transaction as its work sees it: repositories `R` bound to it, and its scope. */
export type Transaction<R> = R & TransactionScope;

/**
 * Every write goes through a unit of work: one short transaction, whose repositories — `R`,
 * bound to the transaction by `bind` — are handed to the work. Never hold one across a call to
 * Gemini. It knows no feature: the application binds all its repositories (src/persistence.ts),
 * and each service types it with those it writes through (`UnitOfWork<{ users: UsersRepository }>`).
 *
 * PostgreSQL runs units side by side, each its own transaction; SQLite, one connection, queues
 * them and commits those that queue up together as one (SqliteGroupCommit).
 */
export class UnitOfWork<R extends object> {
  private readonly logger = new Logger('UnitOfWork');
  private readonly groupCommit: SqliteGroupCommit | null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bind: (manager: EntityManager) => R,
  ) {
    this.groupCommit = dataSource.options.type === 'postgres' ? null : new SqliteGroupCommit(dataSource);
  }

  /**
   * Runs `work` in a transaction and commits it; resolves with its value once committed.
   * `durable: false` lets SQLite skip the fsync of this commit (see SqliteGroupCommit.commit):
   * for rows a crash may lose, never for what was stored or spent.
   */
  async commit<T>(work: (tx: Transaction<R>) => Promise<T>, { durable = true }: { durable?: boolean } = {}): Promise<T> {
    const committed: (() => void)[] = [];
    const unit = (manager: EntityManager) =>
      work({ ...this.bind(manager), afterCommit: (callback: () => void) => void committed.push(callback) });
    const value = this.groupCommit ? await this.groupCommit.commit(unit, durable) : await this.dataSource.transaction(unit);
    // What was committed is stored whatever these do: a callback failing is logged, never the unit's outcome.
    for (const callback of committed) {
      try {
        callback();
      } catch (error) {
        this.logger.error(`after a commit: ${String(error)}`);
      }
    }
    return value;
  }
}
