import pg from 'pg';
import type { TestApp } from './test-app.js';

/**
 * Makes the app's database refuse writes, as a database that cannot take them does, and gives
 * them back. SQLite: `PRAGMA query_only` on the app's one connection (every write is then
 * SQLITE_READONLY, reads go on). PostgreSQL: the database's `default_transaction_read_only`, and
 * its connections ended so the pool opens new ones under it (every write is then 25006, as on a
 * read-only replica).
 */
export async function setReadOnly(t: TestApp, readOnly: boolean): Promise<void> {
  if (t.database.kind === 'sqlite') {
    await t.dataSource.query(`PRAGMA query_only = ${readOnly ? 'ON' : 'OFF'}`);
    return;
  }
  const name = new URL(t.database.url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: process.env.TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(
      `ALTER DATABASE ${name} ${readOnly ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`,
    );
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  } finally {
    await admin.end();
  }
}
