import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import type { DatabaseSettings } from '../config/environment.js';
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
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      if (database.path !== ':memory:') db.pragma('journal_mode = WAL');
      // Billing rows must survive a power cut, not only a crash of the process.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  };
}
