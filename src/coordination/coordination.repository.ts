import type { EntityManager } from 'typeorm';
import { runSql } from '../database/sql.js';

/** Now in epoch milliseconds on the database's clock, as SQL (what expiry is decided by). */
export function databaseNowMs(type: string): string {
  return type === 'postgres' ? '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint' : "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
}

/** The rows an instance holds and keeps alive, each named by a holder id of its own. */
export const HELD_ROWS = {
  session_leases: { holder: 'holder', where: '' },
  budget_reservations: { holder: 'id', where: '' },
  idempotency_records: { holder: 'holder', where: " AND state = 'running'" },
} as const;

export type HeldTable = keyof typeof HELD_ROWS;
export type HeldRows = Record<HeldTable, string[]>;

/** Bound parameters per statement: far under both databases' limits. */
const CHUNK = 500;

/** What instances coordinate through, and what a turn's transaction releases of what it held. */
export class CoordinationRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The database's clock, epoch milliseconds. */
  async now(): Promise<number> {
    const [row] = await this.manager.query(`SELECT ${databaseNowMs(this.manager.connection.options.type)} AS now`);
    return Number(row.now);
  }

  /** The rows given now expire `ttlMs` from now, all at the same moment. Only those: a row its holder gave up expires. */
  async renew(held: HeldRows, ttlMs: number): Promise<void> {
    const expiresAt = (await this.now()) + ttlMs;
    await this.eachChunk(held, (table, column, where) => `UPDATE ${table} SET expires_at = :expiresAt WHERE ${column} IN (:...holders)${where}`, {
      expiresAt,
    });
  }

  /** An instance stopping: what it still holds goes, so others need not wait for it to expire. */
  async release(held: HeldRows): Promise<void> {
    await this.eachChunk(held, (table, column, where) => `DELETE FROM ${table} WHERE ${column} IN (:...holders)${where}`);
  }

  private async eachChunk(held: HeldRows, sql: (table: string, column: string, where: string) => string, parameters: object = {}): Promise<void> {
    for (const [table, { holder, where }] of Object.entries(HELD_ROWS)) {
      const holders = held[table as HeldTable];
      for (let i = 0; i < holders.length; i += CHUNK) {
        await runSql(this.manager, sql(table, holder, where), { ...parameters, holders: holders.slice(i, i + CHUNK) });
      }
    }
  }

  /** False when the lease is no longer this holder's (it expired). */
  async releaseLease(sessionId: string, holder: string): Promise<boolean> {
    const { affected } = await this.manager
      .createQueryBuilder()
      .delete()
      .from('session_leases')
      .where('session_id = :sessionId AND holder = :holder', { sessionId, holder })
      .execute();
    return (affected ?? 0) > 0;
  }

  async releaseReservation(id: string): Promise<void> {
    await this.manager.createQueryBuilder().delete().from('budget_reservations').where('id = :id', { id }).execute();
  }

  /** Rate-limit rows older than a minute: those of callers gone idle. */
  async sweepRateLimits(): Promise<void> {
    await runSql(this.manager, `DELETE FROM rate_limit_hits WHERE at <= ${databaseNowMs(this.manager.connection.options.type)} - 60000`);
  }
}
