import type { EntityManager } from 'typeorm';
import { runSql, Sql } from '../database/sql.js';

/** Now in epoch milliseconds on the database's clock, as SQL (what expiry is decided by). */
function databaseNowMs(type: string): string {
  return type === 'postgres' ? '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint' : "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
}

/** PostgreSQL's clock, for the statements only instances sharing PostgreSQL run. */
const PG_NOW_MS = databaseNowMs('postgres');

/** The rows an instance holds and keeps alive, each named by a holder id of its own. */
export const HELD_ROWS = {
  session_leases: { holder: 'holder', where: '' },
  budget_reservations: { holder: 'id', where: '' },
  idempotency_records: { holder: 'holder', where: " AND state = 'running'" },
} as const;

export type HeldTable = keyof typeof HELD_ROWS;
export type HeldRows = Record<HeldTable, string[]>;

/** Why a turn was not admitted: the day's spend reached the limit, or would with the turns in flight. */
export type BudgetRefusal = 'spent' | 'in-flight';

export interface Reservation {
  id: string;
  userId: string;
  /** The UTC day whose spend counts (`YYYY-MM-DD`). */
  day: string;
  /** Null: no limit to check, the reservation is written all the same. */
  limitNanoUsd: number | null;
  worstCaseNanoUsd: number;
  ttlMs: number;
}

/** Bound parameters per statement: far under both databases' limits. */
const CHUNK = 500;

/** Taken when there is no lease on the session, or the one there has expired (its holder stopped renewing it). */
const TAKE_LEASE = new Sql<{ holder: string }>(
  `INSERT INTO session_leases (session_id, holder, expires_at)
   VALUES (:sessionId, :holder, ${PG_NOW_MS} + :ttlMs)
   ON CONFLICT (session_id) DO UPDATE
     SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
     WHERE session_leases.expires_at < ${PG_NOW_MS}
   RETURNING holder`,
);

const RELEASE_LEASE = new Sql('DELETE FROM session_leases WHERE session_id = :sessionId AND holder = :holder');

const LOCK_USER_BUDGET = new Sql(`SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))`);
/** The day's spend and what turns in flight reserved, in one statement: one snapshot. */
const SPENT_AND_RESERVED = new Sql<{ spent: string; reserved: string }>(
  `SELECT COALESCE((SELECT cost_nano_usd FROM spend_daily WHERE user_id = :userId AND day = :day), 0) AS spent,
          COALESCE((SELECT SUM(nano_usd) FROM budget_reservations WHERE user_id = :userId), 0) AS reserved`,
);
const RELEASE_RESERVATION = new Sql('DELETE FROM budget_reservations WHERE id = :id');
const SPENT_ON = new Sql<{ cost_nano_usd: number | string }>(
  'SELECT cost_nano_usd FROM spend_daily WHERE user_id = :userId AND day = :day',
);

/** One round trip, see the migration that creates the function. */
const TAKE_RATE_LIMIT = new Sql<{ admitted: boolean; oldest: string | null; now_ms: string }>(
  'SELECT admitted, oldest, now_ms FROM take_rate_limit(:scope, :limit, :windowMs)',
);

/**
 * Every statement instances coordinate through — session leases, budget reservations, rate-limit
 * windows, the heartbeat's renewals — and what a turn's transaction releases of what it held.
 * The statements marked PostgreSQL run only there: one process on SQLite keeps its line, its
 * window and its reservations in memory.
 */
export class CoordinationRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The database's clock, epoch milliseconds. */
  async now(): Promise<number> {
    const [row] = await runSql<{ now: string | number }[]>(
      this.manager,
      `SELECT ${databaseNowMs(this.manager.connection.options.type)} AS now`,
    );
    return Number(row.now);
  }

  /** The rows given now expire `ttlMs` from now, all at the same moment. Only those: a row its holder gave up expires. */
  async renew(held: HeldRows, ttlMs: number): Promise<void> {
    const expiresAt = (await this.now()) + ttlMs;
    await this.eachChunk(
      held,
      (table, column, where) => `UPDATE ${table} SET expires_at = :expiresAt WHERE ${column} IN (:...holders)${where}`,
      {
        expiresAt,
      },
    );
  }

  /** An instance stopping: what it still holds goes, so others need not wait for it to expire. */
  async release(held: HeldRows): Promise<void> {
    await this.eachChunk(held, (table, column, where) => `DELETE FROM ${table} WHERE ${column} IN (:...holders)${where}`);
  }

  private async eachChunk(
    held: HeldRows,
    sql: (table: string, column: string, where: string) => string,
    parameters: object = {},
  ): Promise<void> {
    for (const [table, { holder, where }] of Object.entries(HELD_ROWS)) {
      const holders = held[table as HeldTable];
      for (let i = 0; i < holders.length; i += CHUNK) {
        await runSql(this.manager, sql(table, holder, where), { ...parameters, holders: holders.slice(i, i + CHUNK) });
      }
    }
  }

  /** PostgreSQL: takes the session's lease for `holder`, for `ttlMs`; false while another holds it. */
  async takeLease(sessionId: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await TAKE_LEASE.rows(this.manager, { sessionId, holder, ttlMs })).length > 0;
  }

  /** False when the lease is no longer this holder's (it expired). */
  async releaseLease(sessionId: string, holder: string): Promise<boolean> {
    return (await RELEASE_LEASE.execute(this.manager, { sessionId, holder })).affected > 0;
  }

  /**
   * In a transaction: reserves a turn's worst case — with a limit, only while the day's spend
   * plus the live reservations is under it, decided under a lock on the user (PostgreSQL's
   * advisory lock; SQLite has one writer). Reservations left by a process that died count no
   * more, and go.
   */
  async reserve({ id, userId, day, limitNanoUsd, worstCaseNanoUsd, ttlMs }: Reservation): Promise<true | BudgetRefusal> {
    const now = databaseNowMs(this.manager.connection.options.type);
    if (limitNanoUsd !== null) {
      if (this.manager.connection.options.type === 'postgres') await LOCK_USER_BUDGET.execute(this.manager, { lock: `budget:${userId}` });
      await runSql(this.manager, `DELETE FROM budget_reservations WHERE user_id = :userId AND expires_at <= ${now}`, { userId });
      const [committed] = await SPENT_AND_RESERVED.rows(this.manager, { userId, day });
      if (Number(committed.spent) >= limitNanoUsd) return 'spent';
      if (Number(committed.spent) + Number(committed.reserved) >= limitNanoUsd) return 'in-flight';
    }
    await runSql(
      this.manager,
      `INSERT INTO budget_reservations (id, user_id, nano_usd, expires_at) VALUES (:id, :userId, :nanoUsd, ${now} + :ttlMs)`,
      { id, userId, nanoUsd: worstCaseNanoUsd, ttlMs },
    );
    return true;
  }

  /** What the user's turns in flight have reserved, nano-dollars. */
  async reservedBy(userId: string): Promise<number> {
    const [row] = await runSql<{ reserved: string | number | null }[]>(
      this.manager,
      'SELECT SUM(nano_usd) AS reserved FROM budget_reservations WHERE user_id = :userId',
      { userId },
    );
    return Number(row?.reserved ?? 0);
  }

  async releaseReservation(id: string): Promise<void> {
    await RELEASE_RESERVATION.execute(this.manager, { id });
  }

  /** What the user spent on a UTC day (`YYYY-MM-DD`), integer nano-dollars: one row read. */
  async spentOn(userId: string, day: string): Promise<number> {
    const [row] = await SPENT_ON.rows(this.manager, { userId, day });
    return row ? Number(row.cost_nano_usd) : 0;
  }

  /** PostgreSQL: counts a turn start in the caller's window, or says when its oldest start leaves it. */
  async takeRateLimit(scope: string, limit: number, windowMs: number): Promise<{ admitted: boolean; oldest: number; now: number }> {
    const [window] = await TAKE_RATE_LIMIT.rows(this.manager, { scope, limit, windowMs });
    return { admitted: window.admitted, oldest: Number(window.oldest), now: Number(window.now_ms) };
  }

  /** Rate-limit rows older than a minute: those of callers gone idle. */
  async sweepRateLimits(): Promise<void> {
    await runSql(this.manager, `DELETE FROM rate_limit_hits WHERE at <= ${databaseNowMs(this.manager.connection.options.type)} - 60000`);
  }
}
