import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';

/**
 * Now on the database's clock, in epoch milliseconds. Expiry is decided by one clock, the
 * database's: the instances' own clocks may disagree.
 */
export const DATABASE_NOW_MS = '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint';

/**
 * This instance among those sharing a PostgreSQL database: its id, written on every session
 * lease and budget reservation it holds, and its heartbeat, which keeps them alive every third
 * of LEASE_TTL_MS. When the instance dies the heartbeat stops and they expire; when it stops
 * cleanly it deletes what is left of them.
 */
@Injectable()
export class ClusterInstance implements OnModuleDestroy {
  readonly id = randomUUID();
  readonly leaseTtlMs: number;
  private readonly logger = new Logger(ClusterInstance.name);
  private readonly timer: NodeJS.Timeout;
  private holds = 0;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.leaseTtlMs = config.leaseTtlMs;
    this.timer = setInterval(() => void this.beat(), Math.floor(this.leaseTtlMs / 3));
    this.timer.unref();
  }

  /** Counts a lease or reservation held; the heartbeat runs only while there is one. Call the result when it is gone. */
  hold(): () => void {
    this.holds += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.holds -= 1;
    };
  }

  /** The expiry of a lease taken or renewed now, as SQL. */
  get expiresAtSql(): string {
    return `${DATABASE_NOW_MS} + ${this.leaseTtlMs}`;
  }

  private async beat(): Promise<void> {
    if (this.holds === 0) return;
    try {
      // One statement, one expiry: a turn's lease and reservation end together if this instance dies.
      await this.dataSource.query(
        `WITH renewed AS (SELECT ${this.expiresAtSql} AS expires_at),
              leases AS (UPDATE session_leases SET expires_at = (SELECT expires_at FROM renewed) WHERE instance_id = $1)
         UPDATE budget_reservations SET expires_at = (SELECT expires_at FROM renewed) WHERE instance_id = $1`,
        [this.id],
      );
    } catch (error) {
      // The next beat tries again; a lease lost meanwhile is noticed when its turn is stored.
      this.logger.warn(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    try {
      for (const table of ['session_leases', 'budget_reservations']) {
        await this.dataSource.query(`DELETE FROM ${table} WHERE instance_id = $1`, [this.id]);
      }
    } catch {
      // Stopping anyway: whatever is left expires.
    }
  }
}
