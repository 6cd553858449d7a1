import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import type { DatabaseSettings } from '../config/environment.js';
import { SqliteFileInUse } from './errors.js';
import { MIGRATIONS } from './migrations/index.js';

export { MIGRATIONS };

export interface DataSourceExtras {
  /** The entities TypeORM maps (src/persistence.ts lists them); none for a data source that only runs SQL. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function | string | EntitySchema>;
  /** PostgreSQL connections of this instance. */
  poolSize?: number;
}

/**
 * How long a request waits for a PostgreSQL connection: a new one to connect, or a busy pool to
 * free one (a connection is held for about a millisecond at a time). pg waits for ever by
 * default, so a server that drops packets would hold every request until TCP gives up (minutes);
 * past this it is 503 NOT_READY.
 */
const POSTGRES_CONNECT_TIMEOUT_MS = 5_000;

/** Options for the app and for the TypeORM CLI alike. Migrations run at start (see migrate.ts), never synchronize. */
export function dataSourceOptions(database: DatabaseSettings, { entities = [], poolSize = 10 }: DataSourceExtras = {}): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
  };
  if (database.kind === 'postgres') {
    return { ...common, type: 'postgres', url: database.url, poolSize, connectTimeoutMS: POSTGRES_CONNECT_TIMEOUT_MS };
  }
  if (database.path !== ':memory:') mkdirSync(dirname(database.path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: database.path,
    prepareDatabase: (db: SqliteConnection) => {
      if (database.path !== ':memory:') holdExclusively(db, database.path);
      // Billing rows must survive a power cut, not only a crash of the process.
      db.pragma(`synchronous = ${SQLITE_SYNCHRONOUS}`);
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  };
}

/** How SQLite commits: synced to disk (SqliteGroupCommit relaxes it only for units that are not durable). */
export const SQLITE_SYNCHRONOUS = 'FULL';

/** What prepareDatabase is handed: better-sqlite3's connection, the one TypeORM's driver uses for everything. */
interface SqliteConnection {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  close(): unknown;
}

/**
 * Takes the SQLite file for this connection, in WAL mode, for as long as it is open: SQLite is
 * one process (coordination is in its memory, see src/coordination), and a second process on the
 * file would run beside the first and admit turns against the same budgets. With
 * `locking_mode = EXCLUSIVE` the first write transaction takes the file's lock and never gives it
 * back: another process cannot read or write the file (SQLITE_BUSY) until this one closes it or
 * dies — the lock is the operating system's, so a killed process leaves no stale lock behind.
 * WAL then keeps its index in this process's memory (no -shm file); checkpoints run as before.
 * The busy timeout is off while the lock is taken: a held file is refused at once, not in 5 s.
 */
function holdExclusively(db: SqliteConnection, path: string): void {
  db.pragma('busy_timeout = 0');
  db.pragma('locking_mode = EXCLUSIVE');
  try {
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
    // TypeORM keeps no handle of a connection whose preparation failed: closed here, or it leaks.
    db.close();
    throw new SqliteFileInUse(resolve(path));
  }
}
