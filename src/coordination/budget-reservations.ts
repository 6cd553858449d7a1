import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Heartbeat, DATABASE_NOW_MS } from './heartbeat.js';
import { hold } from './hold.js';
import type { Releasable } from './hold.js';
import { KeyedQueue } from './keyed-queue.js';
import { UsageRepository } from '../usage/usage.repository.js';

export interface ReservationRequest {
  userId: string;
  /** The UTC day whose spend counts (`YYYY-MM-DD`). */
  day: string;
  limitNanoUsd: number;
  worstCaseNanoUsd: number;
}

/** Why a turn was not admitted: the day's spend reached the limit, or would with the turns in flight. */
export type Refusal = 'spent' | 'in-flight';

/**
 * Budget reservations of turns in flight. A turn is admitted while the user's spend that day
 * plus what turns in flight have reserved is under the limit; it then reserves its worst case
 * until its real cost is stored. So concurrent turns overshoot by less than one turn.
 */
export abstract class BudgetReservations {
  /** The reservation, or why there is none. */
  abstract reserve(request: ReservationRequest): Promise<Releasable | Refusal>;
  /** Nano-dollars reserved by the user's turns in flight (diagnostics and tests). */
  abstract reservedFor(userId: string): Promise<number>;
}

/**
 * One process (SQLite): reservations in memory, admissions one at a time per user. Released
 * after the turn's transaction commits, so for a moment both count: never too little.
 */
export class InMemoryBudgetReservations extends BudgetReservations {
  private readonly reserved = new Map<string, number>();
  private readonly admission = new KeyedQueue();
  private readonly usage: UsageRepository;

  constructor(dataSource: DataSource) {
    super();
    this.usage = new UsageRepository(dataSource.manager);
  }

  reserve({ userId, day, limitNanoUsd, worstCaseNanoUsd }: ReservationRequest): Promise<Releasable | Refusal> {
    return this.admission.run(userId, async () => {
      const spent = await this.usage.spentOn(userId, day);
      const inFlight = this.reserved.get(userId) ?? 0;
      if (spent >= limitNanoUsd) return 'spent';
      if (spent + inFlight >= limitNanoUsd) return 'in-flight';
      this.reserved.set(userId, inFlight + worstCaseNanoUsd);
      const gone = () => {
        const left = (this.reserved.get(userId) ?? 0) - worstCaseNanoUsd;
        if (left > 0) this.reserved.set(userId, left);
        else this.reserved.delete(userId);
      };
      return hold({ inTransaction: async () => undefined, alone: async () => undefined, gone });
    });
  }

  async reservedFor(userId: string): Promise<number> {
    return this.reserved.get(userId) ?? 0;
  }
}

/**
 * Instances sharing PostgreSQL: reservations are rows of `budget_reservations`, admitted under
 * a transaction-scoped advisory lock on the user. Spend and reservations are read by one
 * statement (one snapshot), so a turn stored meanwhile — its spend added and its reservation
 * deleted in one transaction — is counted once, never zero times. A reservation lives while
 * its instance's heartbeat renews it.
 */
export class DatabaseBudgetReservations extends BudgetReservations {
  constructor(
    private readonly dataSource: DataSource,
    private readonly instance: Heartbeat,
  ) {
    super();
  }

  async reserve({ userId, day, limitNanoUsd, worstCaseNanoUsd }: ReservationRequest): Promise<Releasable | Refusal> {
    const id = randomUUID();
    const unhold = this.instance.hold('budget_reservations', id);
    const admitted = await this.dataSource
      .transaction(async (manager): Promise<true | Refusal> => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`budget:${userId}`]);
        // Left by an instance that died: they count no more, and go.
        await manager.query(`DELETE FROM budget_reservations WHERE user_id = $1 AND expires_at <= ${DATABASE_NOW_MS}`, [userId]);
        const [committed] = (await manager.query(
          `SELECT COALESCE((SELECT cost_nano_usd FROM spend_daily WHERE user_id = $1 AND day = $2), 0) AS spent,
                  COALESCE((SELECT SUM(nano_usd) FROM budget_reservations WHERE user_id = $1), 0) AS reserved`,
          [userId, day],
        )) as { spent: string; reserved: string }[];
        if (Number(committed.spent) >= limitNanoUsd) return 'spent';
        if (Number(committed.spent) + Number(committed.reserved) >= limitNanoUsd) return 'in-flight';
        await manager.query(
          `INSERT INTO budget_reservations (id, user_id, nano_usd, expires_at) VALUES ($1, $2, $3, ${this.instance.expiresAtSql})`,
          [id, userId, worstCaseNanoUsd],
        );
        return true;
      })
      .catch((error: unknown) => {
        unhold();
        throw error;
      });
    if (admitted !== true) {
      unhold();
      return admitted;
    }
    return hold({
      inTransaction: ({ coordination }) => coordination.releaseReservation(id),
      alone: async () => {
        await this.dataSource.query('DELETE FROM budget_reservations WHERE id = $1', [id]);
      },
      gone: unhold,
    });
  }

  async reservedFor(userId: string): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT COALESCE(SUM(nano_usd), 0) AS reserved FROM budget_reservations WHERE user_id = $1 AND expires_at > ${DATABASE_NOW_MS}`,
      [userId],
    )) as { reserved: string }[];
    return Number(row.reserved);
  }
}
