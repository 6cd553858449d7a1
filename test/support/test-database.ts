import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';

/** A database of its own for one test app: a fresh SQLite file, or a fresh PostgreSQL database in the e2e-pg project. */
export interface TestDatabase {
  /** DATABASE_URL of it. */
  url: string;
  kind: 'sqlite' | 'postgres';
  drop(): Promise<void>;
}

let created = 0;

export async function createTestDatabase(): Promise<TestDatabase> {
  if (process.env.TEST_DATABASE === 'postgres') return createPostgresDatabase(process.env.TEST_POSTGRES_URL!);
  const dir = mkdtempSync(join(tmpdir(), 'gemini-chat-api-'));
  return { url: `sqlite:${join(dir, 'chat.db')}`, kind: 'sqlite', drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** A new, empty database on the server `adminUrl` connects to as a superuser. */
export async function createPostgresDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `test_${process.pid}_${++created}_${Date.now().toString(36)}`;
  await onServer(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), kind: 'postgres', drop: () => onServer(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function onServer(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface RawSql {
  /** SQL written with `?` placeholders (PostgreSQL gets $1, $2…); BIGINTs and sums read as numbers on both. */
  query<T = Record<string, any>>(sql: string, parameters?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * What specs check in the database, read alike on both: on PostgreSQL through a client of its
 * own whose BIGINTs and sums parse as numbers (as SQLite gives them), so the app's own reads keep pg's
 * defaults and any place where the app forgets to convert still shows.
 */
export function rawSql(database: TestDatabase, dataSource?: DataSource): RawSql {
  if (database.kind === 'sqlite') {
    if (!dataSource) throw new Error("SQLite is read through the app's own connection");
    return { query: (sql, parameters = []) => dataSource.query(sql, parameters), close: async () => undefined };
  }
  // BIGINT and NUMERIC (what SUM of BIGINTs gives): every count and sum in the specs is far below 2^53.
  const AS_NUMBER = new Set([20, 1700]);
  let pool: pg.Pool | null = null;
  const open = () => {
    const created = new pg.Pool({
      connectionString: database.url,
      max: 2,
      types: {
        getTypeParser: ((oid: number, format?: 'text') =>
          AS_NUMBER.has(oid) ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // A client still saying goodbye when the database is dropped gets a FATAL: nothing to do with the spec.
    created.on('error', () => undefined);
    return created;
  };
  return {
    async query<T>(sql: string, parameters: unknown[] = []) {
      pool ??= open();
      let n = 0;
      const { rows } = await pool.query(
        sql.replace(/\?/g, () => `$${++n}`),
        parameters,
      );
      return rows as T[];
    },
    async close() {
      await pool?.end();
    },
  };
}
