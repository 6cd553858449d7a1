import type { DataSource, EntityManager } from 'typeorm';
import { SQLITE_SYNCHRONOUS } from './data-source-options.js';

/** A transaction's work on its manager. */
export type Unit<T> = (manager: EntityManager) => Promise<T>;

interface Waiting {
  unit: Unit<unknown>;
  /** False: its writes need not reach the disk at its commit (see `commit`). */
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Units stored by one commit at most (a bound on one transaction's size). */
const LARGEST_GROUP = 256;

/**
 * SQLite's write queue. TypeORM's SQLite driver shares one connection, so transactions queue
 * (they take microseconds) — and the units that queue up together are committed together: each
 * in a savepoint of one transaction (one failing undoes only its own writes), one COMMIT, so one
 * fsync stores them all. None of them is answered before that commit. A unit alone is a plain
 * transaction.
 *
 * A unit awaits nothing but its statements (better-sqlite3 runs them at once), so a whole group
 * runs within one turn of the event loop: nothing else reads the shared connection while a group
 * is open, and no unit waits on another's slowness.
 */
export class SqliteGroupCommit {
  private readonly waiting: Waiting[] = [];
  private committing = false;

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Runs the unit in the next group; resolves once the group's commit stored it. A unit that is
   * not `durable` (a turn's budget reservation: a crash loses its turn anyway) may be committed
   * without an fsync (`synchronous = NORMAL` for that commit, in WAL mode: written to the WAL,
   * synced with the next durable commit); a group with any durable unit is synced whole.
   */
  commit<T>(unit: Unit<T>, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ unit, durable, resolve: resolve as (value: unknown) => void, reject });
      if (this.committing) return;
      this.committing = true;
      // Units that become ready in this turn of the event loop join the first group.
      setImmediate(() => void this.commitWaiting());
    });
  }

  private async commitWaiting(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, LARGEST_GROUP);
        const restore = group.some((unit) => unit.durable) ? null : this.unsynced();
        try {
          if (group.length === 1) await this.commitAlone(group[0]);
          else await this.commitGroup(group);
        } finally {
          restore?.();
        }
      }
    } finally {
      this.committing = false;
    }
  }

  private async commitAlone({ unit, resolve, reject }: Waiting): Promise<void> {
    try {
      resolve(await this.dataSource.transaction(unit));
    } catch (error) {
      this.resynchronise();
      reject(error);
    }
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    const outcomes: ({ stored: true; value: unknown } | { stored: false; error: unknown })[] = [];
    try {
      await this.dataSource.transaction(async (manager) => {
        for (const { unit } of group) {
          await manager.query('SAVEPOINT unit_of_work');
          try {
            const value = await unit(manager);
            await manager.query('RELEASE unit_of_work');
            outcomes.push({ stored: true, value });
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
      if (outcome.stored) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }

  /** The next commit is not synced to disk (still written: a full disk still fails it); the result puts the setting back. */
  private unsynced(): () => void {
    const connection = (this.dataSource.driver as unknown as { databaseConnection: { pragma(sql: string, options?: object): unknown } })
      .databaseConnection;
    connection.pragma('synchronous = NORMAL');
    return () => connection.pragma(`synchronous = ${SQLITE_SYNCHRONOUS}`);
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
}
