import { NOTHING_HELD } from '../coordination/hold.js';
import type { CoordinationTx, Hold } from '../coordination/hold.js';
import type { TurnResult, TurnTx } from './store-turn.js';

/**
 * What a turn holds while it runs, taken one after the other as it goes. In the transaction
 * that stores the turn, the lease and the reservation are released and the claim completed with
 * the result; when the turn fails, or that transaction does not commit, each is given up.
 */
export class TurnHolds {
  /** Its Idempotency-Key's claim (none without a key). */
  claim: Hold<TurnTx, TurnResult> = NOTHING_HELD;
  /** The session is this turn's (on PostgreSQL, the session's lease). */
  lease: Hold<CoordinationTx> = NOTHING_HELD;
  /** Its budget reservation (none without a daily limit). */
  reservation: Hold<CoordinationTx> = NOTHING_HELD;

  /** First in the turn's transaction: the next turn of the session, and the next budget check, see this one stored. */
  async releaseIn(tx: TurnTx): Promise<void> {
    await this.lease.settleIn(tx);
    await this.reservation.settleIn(tx);
  }

  /** Last in the turn's transaction: the key's outcome commits with what the turn stored. */
  async completeIn(tx: TurnTx, result: TurnResult): Promise<void> {
    await this.claim.settleIn(tx, result);
  }

  /** The turn failed: each hold given up, the last taken first. Nothing to do for those a committed transaction settled. */
  async abandon(error: unknown): Promise<void> {
    await this.reservation.abandon(error);
    await this.lease.abandon(error);
    await this.claim.abandon(error);
  }
}
