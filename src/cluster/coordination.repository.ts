import type { EntityManager } from 'typeorm';
import { runSql } from '../database/sql.js';

/** Now in epoch milliseconds on the database's clock, as SQL (what expiry is decided by). */
export function databaseNowMs(type: string): string {
  return type === 'postgres' ? '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint' : "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
}

/** The rows an instance holds and keeps alive: session leases, budget reservations, running Idempotency-Key claims. */
const HELD = [
  { table: 'session_leases', where: '' },
  { table: 'budget_reservations', where: '' },
  { table: 'idempotency_records', where: " AND state = 'running'" },
];

/** What instances coordinate through, and what a turn's transaction releases of what it held. */
export class CoordinationRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The database's clock, epoch milliseconds. */
  async now(): Promise<number> {
    const [row] = await this.manager.query(`SELECT ${databaseNowMs(this.manager.connection.options.type)} AS now`);
    return Number(row.now);
  }

  /** Everything the instance holds now expires `ttlMs` from now, all at the same moment. */
  async renew(instanceId: string, ttlMs: number): Promise<void> {
    const expiresAt = (await this.now()) + ttlMs;
    for (const { table, where } of HELD) {
      await runSql(this.manager, `UPDATE ${table} SET expires_at = :expiresAt WHERE instance_id = :instanceId${where}`, { expiresAt, instanceId });
    }
  }

  /** An instance stopping: what it still holds goes, so others need not wait for it to expire. */
  async releaseAllOf(instanceId: string): Promise<void> {
    for (const { table, where } of HELD) {
      await runSql(this.manager, `DELETE FROM ${table} WHERE instance_id = :instanceId${where}`, { instanceId });
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
