import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { databaseNowMs } from './coordination.repository.js';

/** Now on PostgreSQL's clock, epoch milliseconds, for the PostgreSQL-only coordination SQL. */
export const DATABASE_NOW_MS = databaseNowMs('postgres');

/**
 * This process among those sharing the database (one, on SQLite): its id, written on what it
 * holds — session leases, budget reservations and Idempotency-Key claims that are running —
 * and its heartbeat, which keeps them alive every third of LEASE_TTL_MS. When the process dies
 * the heartbeat stops and they expire, on the database's clock; when it stops cleanly it
 * deletes what is left of them.
 */
@Injectable()
export class ClusterInstance implements OnModuleDestroy {
  readonly id = randomUUID();
  readonly leaseTtlMs: number;
  private readonly logger = new Logger(ClusterInstance.name);
  private readonly timer: NodeJS.Timeout;
  private holds = 0;
  private lastSweep = 0;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.leaseTtlMs = config.leaseTtlMs;
    this.timer = setInterval(() => void this.beat(), Math.floor(this.leaseTtlMs / 3));
    this.timer.unref();
  }

  /** Counts something held; the heartbeat renews only while there is something. Call the result when it is gone. */
  hold(): () => void {
    this.holds += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.holds -= 1;
    };
  }

  /** PostgreSQL: the expiry of something taken now, as SQL. */
  get expiresAtSql(): string {
    return `${DATABASE_NOW_MS} + ${this.leaseTtlMs}`;
  }

  private async beat(): Promise<void> {
    try {
      if (Date.now() - this.lastSweep >= 60_000) {
        this.lastSweep = Date.now();
        await this.unitOfWork.run(({ coordination }) => coordination.sweepRateLimits());
      }
      if (this.holds > 0) await this.unitOfWork.run(({ coordination }) => coordination.renew(this.id, this.leaseTtlMs));
    } catch (error) {
      // The next beat tries again; a lease lost meanwhile is noticed when its turn is stored.
      this.logger.warn(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.unitOfWork.run(({ coordination }) => coordination.releaseAllOf(this.id));
    } catch {
      // Stopping anyway: whatever is left expires.
    }
  }
}
