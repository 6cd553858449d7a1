import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { HELD_ROWS } from './coordination.repository.js';
import type { CoordinationRepository } from './coordination.repository.js';
import type { HeldRows, HeldTable } from './coordination.repository.js';

/**
 * This process among those sharing the database (one, on SQLite), and its heartbeat. What it
 * holds — session leases, budget reservations, running Idempotency-Key claims — is a row that
 * expires (on the database's clock) unless renewed; every third of LEASE_TTL_MS the heartbeat
 * renews exactly the rows held now, all to one expiry. When the process dies the heartbeat
 * stops and they expire; a row whose holder gave up without deleting it (its DELETE failed)
 * is no longer renewed and expires too; when the process stops cleanly it deletes what is left.
 */
@Injectable()
export class Heartbeat implements OnModuleDestroy {
  readonly leaseTtlMs: number;
  private readonly logger = new Logger(Heartbeat.name);
  private readonly timer: NodeJS.Timeout;
  private readonly held = Object.fromEntries(Object.keys(HELD_ROWS).map((table) => [table, new Set<string>()])) as Record<
    HeldTable,
    Set<string>
  >;
  private beating = false;
  private lastSweep = Date.now();

  constructor(
    private readonly unitOfWork: UnitOfWork<{ coordination: CoordinationRepository }>,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.leaseTtlMs = config.leaseTtlMs;
    this.timer = setInterval(() => void this.beat(), Math.floor(this.leaseTtlMs / 3));
    this.timer.unref();
  }

  /** Keeps the row of `table` named `holder` alive until the result is called. */
  keepAlive(table: HeldTable, holder: string): () => void {
    this.held[table].add(holder);
    return () => this.held[table].delete(holder);
  }

  private snapshot(): HeldRows | null {
    const rows = Object.fromEntries(Object.entries(this.held).map(([table, holders]) => [table, [...holders]])) as HeldRows;
    return Object.values(rows).some((holders) => holders.length > 0) ? rows : null;
  }

  private async beat(): Promise<void> {
    if (this.beating) return; // the last one is still running: the database is slow, not gone
    this.beating = true;
    try {
      const held = this.snapshot();
      if (held) await this.unitOfWork.commit(({ coordination }) => coordination.renew(held, this.leaseTtlMs));
      if (Date.now() - this.lastSweep >= 60_000) {
        this.lastSweep = Date.now();
        await this.unitOfWork.commit(({ coordination }) => coordination.sweepRateLimits());
      }
    } catch (error) {
      // The next beat tries again; a lease lost meanwhile is noticed when its turn is stored.
      this.logger.warn(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.beating = false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    const held = this.snapshot();
    if (!held) return;
    try {
      await this.unitOfWork.commit(({ coordination }) => coordination.release(held));
    } catch {
      // Stopping anyway: whatever is left expires.
    }
  }
}
