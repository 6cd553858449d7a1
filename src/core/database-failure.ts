/**
 * What a database error means for the request that met it, when it means that the database
 * itself is failing rather than this request:
 * - `unavailable`: the database cannot be reached or used right now (connection refused, reset
 *   or cut, the server shutting down or restarting, too many connections, the SQLite file locked
 *   by another process);
 * - `read-only`: it answers but cannot take writes (a read-only database or replica, a full
 *   disk, an I/O error, a SQLite file that can no longer be written).
 * `null` for everything else: a constraint, a bug, a value the database refused.
 *
 * Pure: it reads only the shapes the drivers throw, as observed (not guessed): pg's own
 * `DatabaseError` (`code` = SQLSTATE, `severity`) and Node's socket errors (`code` = `ECONNREFUSED`…),
 * pg-pool's plain `Error`s (messages only), better-sqlite3's `SqliteError` (`code` =
 * `SQLITE_FULL`…), each either thrown as is (TypeORM lets connection errors through) or wrapped by
 * TypeORM's `QueryFailedError`, which copies the driver's fields and keeps it as `driverError`.
 */
export type DatabaseFailure = 'unavailable' | 'read-only';

/** Node's socket and name-resolution errors on the way to a database server. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * What pg and pg-pool throw without a code when the connection is gone or cannot be had:
 * "Connection terminated unexpectedly" (the server went away; also pg's connect timeout),
 * "timeout exceeded when trying to connect" (pg-pool's `connectionTimeoutMillis`), a client
 * reused after its connection failed, a pool ended under a request (shutdown), pg's
 * `query_timeout`; better-sqlite3's closed handle and TypeORM's "not established" the same.
 */
const CONNECTION_GONE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end|Query read timeout|The database connection is not open|is not established/i;

export function databaseFailureOf(error: unknown): DatabaseFailure | null {
  if (typeof error !== 'object' || error === null) return null;
  const driverError = (error as { driverError?: unknown }).driverError;
  return failureOf(error) ?? (typeof driverError === 'object' && driverError !== null ? failureOf(driverError) : null);
}

function failureOf(error: object): DatabaseFailure | null {
  const { code, severity, message } = error as { code?: unknown; severity?: unknown; message?: unknown };
  if (typeof code === 'string') {
    const byCode = code.startsWith('SQLITE_') ? sqliteFailure(code) : UNREACHABLE.has(code) ? 'unavailable' : sqlStateFailure(code);
    if (byCode) return byCode;
  }
  // PostgreSQL ends the session after a FATAL (or PANIC) error: whatever its code, that
  // connection is gone, and one that fails while connecting never was (a database not accepting
  // connections, a login refused).
  if (severity === 'FATAL' || severity === 'PANIC') return 'unavailable';
  if (typeof message === 'string' && CONNECTION_GONE.test(message)) return 'unavailable';
  return null;
}

/**
 * better-sqlite3 gives SQLite's extended result codes by name (`SQLITE_READONLY_DBMOVED`,
 * `SQLITE_IOERR_WRITE`…). BUSY can only mean another process holds the file past the busy timeout.
 */
function sqliteFailure(code: string): DatabaseFailure | null {
  if (/^SQLITE_BUSY(_|$)/.test(code)) return 'unavailable';
  if (/^SQLITE_(FULL|READONLY|IOERR|CANTOPEN)(_|$)/.test(code)) return 'read-only';
  return null;
}

/** PostgreSQL's SQLSTATE codes (appendix A of its manual). */
function sqlStateFailure(code: string): DatabaseFailure | null {
  if (!/^[0-9A-Z]{5}$/.test(code)) return null;
  // 25006 read_only_sql_transaction (default_transaction_read_only, a hot standby); 53100
  // disk_full; 58030 io_error.
  if (code === '25006' || code === '53100' || code === '58030') return 'read-only';
  // Class 08 connection_exception; 57P01–57P05 admin_shutdown, crash_shutdown,
  // cannot_connect_now, database_dropped, idle_session_timeout; class 53 insufficient_resources
  // (too many connections, out of memory) but a full disk.
  if (code.startsWith('08') || /^57P0[1-5]$/.test(code) || code.startsWith('53')) return 'unavailable';
  return null;
}
