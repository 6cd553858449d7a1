import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { UnitOfWork } from '../database/unit-of-work.js';
import { CoordinationRepository } from './coordination.repository.js';
import type { BudgetRefusal } from './coordination.repository.js';
import { Heartbeat } from './heartbeat.js';
import { releasableHold } from './hold.js';
import type { CoordinationTx, Hold } from './hold.js';

export type { BudgetRefusal };

export interface ReservationRequest {
  userId: string;
  /** The UTC day whose spend counts (`YYYY-MM-DD`). */
  day: string;
  /** The user's daily limit; null: none, the turn reserves without a check. */
  limitNanoUsd: number | null;
  worstCaseNanoUsd: number;
}

/**
 * Reservations of turns in flight: a row of `budget_reservations` per turn, written before the
 * turn calls Gemini — on both databases, budget or not. That write is what makes a paid call
 * recordable: a database that cannot take writes refuses the turn here (503), before any spend.
 *
 * A turn with a daily limit is admitted while the user's spend that day plus what turns in
 * flight have reserved is under the limit, and reserves its worst case until its real cost is
 * stored: concurrent turns overshoot by less than one turn. Spend and reservations are read by
 * one statement (one snapshot) under a lock on the user (PostgreSQL: an advisory lock; SQLite:
 * its one writer), so a turn stored meanwhile — its spend added and its reservation deleted in
 * one transaction — is counted once, never zero times. A reservation lives while its
 * instance's heartbeat renews it: one left by a process that died expires.
 */
@Injectable()
export class BudgetReservations {
  constructor(
    private readonly unitOfWork: UnitOfWork<{ coordination: CoordinationRepository }>,
    private readonly coordination: CoordinationRepository,
    private readonly heartbeat: Heartbeat,
  ) {}

  /** The reservation, held until the turn is stored (or given up), or why there is none. */
  async reserve(request: ReservationRequest): Promise<Hold<CoordinationTx> | BudgetRefusal> {
    const id = randomUUID();
    const forget = this.heartbeat.keepAlive('budget_reservations', id);
    let admitted: true | BudgetRefusal;
    try {
      // Written, so a database that cannot take writes refuses the turn here; not synced on SQLite:
      // a crash loses the turn with its reservation, and the turn's own commit syncs it.
      admitted = await this.unitOfWork.commit(
        ({ coordination }) => coordination.reserve({ id, ...request, ttlMs: this.heartbeat.leaseTtlMs }),
        { durable: false },
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
