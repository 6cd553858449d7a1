import { InMemoryBudgetReservations } from '../../../src/coordination/budget-reservations.js';

/** The budget reservations of one process, readable: what a user's turns in flight have reserved. */
export class ObservedBudgetReservations extends InMemoryBudgetReservations {
  /** Nano-dollars reserved by the user's turns in flight. */
  reservedFor(userId: string): number {
    return this.reserved.get(userId) ?? 0;
  }
}
