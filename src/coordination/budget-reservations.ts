import { randomUUID } from 'node:crypto';
import type { UnitOfWork } from '../database/unit-of-work.js';
import type { CoordinationRepository } from './coordination.repository.js';
import type { BudgetRefusal } from './coordination.repository.js';
import type { Heartbeat } from './heartbeat.js';
import { releasableHold } from './hold.js';
import type { CoordinationTx, Hold } from './hold.js';
import { KeyedQueue } from './keyed-queue.js';

export type { BudgetRefusal };

export interface ReservationRequest {
  userId: string;
  /** The UTC day whose spend counts (`YYYY-MM-DD`). */
  day: string;
  limitNanoUsd: number;
  worstCaseNanoUsd: number;
}

/**
 * Budget reservations of turns in flight. A turn is admitted while the user's spend that day
 * plus what turns in flight have reserved is under the limit; it then reserves its worst case
 * until its real cost is stored. So concurrent turns overshoot by less than one turn.
 */
export abstract class BudgetReservations {
  /** The reservation, held until the turn is stored (or given up), or why there is none. */
  abstract reserve(request: ReservationRequest): Promise<Hold<CoordinationTx> | BudgetRefusal>;
}

/**
 * One process (SQLite): reservations in memory, admissions one at a time per user. Released
 * after the turn's transaction commits, so for a moment both count: never too little.
 */
export class InMemoryBudgetReservations extends BudgetReservations {
  protected readonly reserved = new Map<string, number>();
  private readonly admission = new KeyedQueue();

  constructor(private readonly coordination: CoordinationRepository) {
    super();
  }

  reserve({ userId, day, limitNanoUsd, worstCaseNanoUsd }: ReservationRequest): Promise<Hold<CoordinationTx> | BudgetRefusal> {
    return this.admission.serially(userId, async () => {
      const spent = await this.coordination.spentOn(userId, day);
      const inFlight = this.reserved.get(userId) ?? 0;
      if (spent >= limitNanoUsd) return 'spent';
      if (spent + inFlight >= limitNanoUsd) return 'in-flight';
      this.reserved.set(userId, inFlight + worstCaseNanoUsd);
      const gone = () => {
        const left = (this.reserved.get(userId) ?? 0) - worstCaseNanoUsd;
        if (left > 0) this.reserved.set(userId, left);
        else this.reserved.delete(userId);
      };
      return releasableHold({ what: 'a budget reservation', releaseIn: async () => undefined, releaseAlone: async () => undefined, gone });
    });
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
    private readonly unitOfWork: UnitOfWork<{ coordination: CoordinationRepository }>,
    private readonly coordination: CoordinationRepository,
    private readonly heartbeat: Heartbeat,
  ) {
    super();
  }

  async reserve(request: ReservationRequest): Promise<Hold<CoordinationTx> | BudgetRefusal> {
    const id = randomUUID();
    const forget = this.heartbeat.keepAlive('budget_reservations', id);
    let admitted: true | BudgetRefusal;
    try {
      admitted = await this.unitOfWork.commit(({ coordination }) =>
        coordination.reserve({ id, ...request, ttlMs: this.heartbeat.leaseTtlMs }),
      );
    } catch (error) {
      forget();
      throw error;
    }
    if (admitted !== true) {
      forget();
      return admitted;
    }
    return releasableHold({
      what: 'a budget reservation',
      releaseIn: (coordination) => coordination.releaseReservation(id),
      releaseAlone: () => this.coordination.releaseReservation(id),
      gone: forget,
    });
  }
}
