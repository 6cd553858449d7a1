import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { databaseFailureOf } from './database-failure.js';

/** The error `run` throws: these are the drivers' own, made to fail for real where that is cheap. */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected it to reject');
    },
    (error: unknown) => error,
  );
}

/** What TypeORM throws for a failed statement: the driver's error wrapped, its fields copied. */
const wrapped = (driverError: unknown) => new QueryFailedError('INSERT INTO t (v) VALUES (?)', ['what a user wrote'], driverError as Error);

/** pg's DatabaseError as its protocol parser builds it from a server's ErrorResponse. */
function serverError(code: string, severity: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  Object.assign(error, { code, severity });
  return error;
}

describe('databaseFailureOf', () => {
  describe('SQLite (better-sqlite3)', () => {
    let db: Database.Database;
    beforeEach(() => {
      db = new Database(':memory:');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
    });
    afterEach(() => db.close());

    it('reads a full database (SQLITE_FULL) as read-only, bare or wrapped by TypeORM', () => {
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      const error = thrownBy(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('x'.repeat(100_000)));
      expect((error as { code: string }).code).toBe('SQLITE_FULL');
      expect(databaseFailureOf(error)).toBe('read-only');
      expect(databaseFailureOf(wrapped(error))).toBe('read-only');
    });

    it('reads a read-only database (SQLITE_READONLY) as read-only', () => {
      db.pragma('query_only = ON');
      const error = thrownBy(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('x'));
      expect((error as { code: string }).code).toBe('SQLITE_READONLY');
      expect(databaseFailureOf(wrapped(error))).toBe('read-only');
    });

    it.each(['SQLITE_READONLY_DBMOVED', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'SQLITE_CANTOPEN'])(
      'reads %s (the extended codes better-sqlite3 names) as read-only',
      (code) => {
        expect(databaseFailureOf(Object.assign(new Error('SqliteError'), { code }))).toBe('read-only');
      },
    );

    it('reads a file another process holds (SQLITE_BUSY) as unavailable', () => {
      const dir = mkdtempSync(join(tmpdir(), 'database-failure-'));
      const holder = new Database(join(dir, 'chat.db'), { timeout: 0 });
      try {
        holder.pragma('locking_mode = EXCLUSIVE');
        holder.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
        const other = new Database(join(dir, 'chat.db'), { timeout: 0 });
        const error = thrownBy(() => other.prepare('SELECT * FROM t').all());
        other.close();
        expect((error as { code: string }).code).toBe('SQLITE_BUSY');
        expect(databaseFailureOf(wrapped(error))).toBe('unavailable');
      } finally {
        holder.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('does not read a constraint or a statement error as the database failing', () => {
      db.prepare('INSERT INTO t (v) VALUES (?)').run('x');
      const unique = thrownBy(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('x'));
      expect((unique as { code: string }).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
      expect(databaseFailureOf(wrapped(unique))).toBeNull();
      expect(databaseFailureOf(wrapped(thrownBy(() => db.prepare('SELECT nope FROM t').all())))).toBeNull();
    });

    it('reads a closed connection (a request during shutdown) as unavailable', () => {
      db.close();
      expect(databaseFailureOf(thrownBy(() => db.prepare('SELECT 1')))).toBe('unavailable');
      db = new Database(':memory:');
    });
  });

  describe('PostgreSQL (pg)', () => {
    /** A port that accepts connections and never says a word, like a server that hangs. */
    let silent: Server;
    const sockets = new Set<Socket>();
    let silentPort: number;
    let closedPort: number;

    beforeAll(async () => {
      silent = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      silentPort = (silent.address() as AddressInfo).port;
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      closedPort = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('reads a refused connection (ECONNREFUSED, what TypeORM lets through as is) as unavailable', async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: closedPort, user: 'chat' });
      const error = await rejectionOf(client.connect());
      expect((error as { code: string }).code).toBe('ECONNREFUSED');
      expect(databaseFailureOf(error)).toBe('unavailable');
    });

    it("reads pg's connect timeout and pg-pool's wait for a connection as unavailable", async () => {
      const pool = new pg.Pool({ host: '127.0.0.1', port: silentPort, user: 'chat', max: 1, connectionTimeoutMillis: 200 });
      pool.on('error', () => undefined);
      const [connecting, waiting] = await Promise.all([rejectionOf(pool.query('SELECT 1')), rejectionOf(pool.query('SELECT 1'))]);
      await pool.end();
      expect((connecting as Error).message).toBe('Connection terminated due to connection timeout');
      expect((waiting as Error).message).toBe('timeout exceeded when trying to connect');
      expect(databaseFailureOf(connecting)).toBe('unavailable');
      expect(databaseFailureOf(waiting)).toBe('unavailable');
    });

    it.each([
      ['a connection cut mid-query', wrapped(new Error('Connection terminated unexpectedly'))],
      ['a pool ended under a request', new Error('Cannot use a pool after calling end on the pool')],
      ['a reset socket', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' })],
      ['a host that does not resolve', Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' })],
      ['57P01 admin_shutdown', wrapped(serverError('57P01', 'FATAL', 'terminating connection due to administrator command'))],
      ['57P03 cannot_connect_now', serverError('57P03', 'FATAL', 'the database system is starting up')],
      ['53300 too_many_connections', serverError('53300', 'FATAL', 'too many connections for role "chat"')],
      ['08006 connection_failure', wrapped(serverError('08006', 'ERROR', 'connection failure'))],
      [
        'a FATAL of another class (a database not accepting connections)',
        serverError('55000', 'FATAL', 'database "chat" is not currently accepting connections'),
      ],
    ])('reads %s as unavailable', (_name, error) => {
      expect(databaseFailureOf(error)).toBe('unavailable');
    });

    it.each([
      ['25006 read_only_sql_transaction', serverError('25006', 'ERROR', 'cannot execute INSERT in a read-only transaction')],
      ['53100 disk_full', serverError('53100', 'ERROR', 'could not extend file "base/16384/16400": No space left on device')],
      ['58030 io_error', serverError('58030', 'ERROR', 'could not write to file')],
    ])('reads %s as read-only', (_name, error) => {
      expect(databaseFailureOf(wrapped(error))).toBe('read-only');
    });

    it.each([
      ['23505 unique_violation', serverError('23505', 'ERROR', 'duplicate key value violates unique constraint')],
      ['22021 character_not_in_repertoire (U+0000)', serverError('22021', 'ERROR', 'invalid byte sequence for encoding "UTF8": 0x00')],
      ['42P01 undefined_table', serverError('42P01', 'ERROR', 'relation "t" does not exist')],
      ['40P01 deadlock_detected', serverError('40P01', 'ERROR', 'deadlock detected')],
    ])('does not read %s as the database failing', (_name, error) => {
      expect(databaseFailureOf(wrapped(error))).toBeNull();
    });
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a string', 'Connection terminated'],
    ['null', null],
    ['an error code of the API', Object.assign(new Error('x'), { code: 'NOT_READY' })],
    ['a file-system error', Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' })],
  ])('does not read %s as a database failure', (_name, error) => {
    expect(databaseFailureOf(error)).toBeNull();
  });
});
