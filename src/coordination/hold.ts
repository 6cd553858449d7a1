import { Logger } from '@nestjs/common';
import type { Transaction } from '../database/unit-of-work.js';
import type { CoordinationRepository } from './coordination.repository.js';

/**
 * Something a turn holds while it runs — its place at the head of its session's line (the
 * session's lease), its budget reservation, its Idempotency-Key claim. Each is settled in the
 * transaction that stores the turn, so nobody sees the turn stored with the hold still there, or
 * the hold gone before the turn is stored; or, when the turn fails or that transaction never
 * commits, given up on its own.
 */
export interface Hold<Tx, Outcome = void> {
  /** Settles it inside the turn's transaction (released, or completed with the outcome): in effect once that commits. */
  settleIn(tx: Tx, outcome: Outcome): Promise<void>;
  /** Gives it up after a failure: nothing to do once a committed transaction settled it. Never throws. */
  abandon(error: unknown): Promise<void>;
}

/** The transaction coordination rows are released in. */
export type CoordinationTx = Transaction<{ coordination: CoordinationRepository }>;

/** Held when nothing needs holding (no Idempotency-Key, no daily limit, one process's session line). */
export const NOTHING_HELD: Hold<never, never> = Object.freeze({
  settleIn: async () => undefined,
  abandon: async () => undefined,
});

const logger = new Logger('Hold');

/**
 * A coordination row held while a turn runs: released by `releaseIn` in the turn's transaction,
 * or by `releaseAlone` when no such transaction committed (a failure to do so is logged: the row
 * expires). `gone` runs once, when it is released either way (the heartbeat stops renewing it).
 */
export function releasableHold({
  what,
  releaseIn,
  releaseAlone,
  gone,
}: {
  /** For the log: "the lease on session …". */
  what: string;
  releaseIn: (coordination: CoordinationRepository) => Promise<void>;
  releaseAlone: () => Promise<void>;
  gone: () => void;
}): Hold<CoordinationTx> {
  let released = false;
  const settle = () => {
    if (released) return;
    released = true;
    gone();
  };
  return {
    settleIn: async ({ coordination, afterCommit }) => {
      await releaseIn(coordination);
      afterCommit(settle);
    },
    abandon: async () => {
      if (released) return;
      try {
        await releaseAlone();
      } catch (error) {
        logger.warn(`could not release ${what} (it expires): ${String(error)}`);
      } finally {
        settle();
      }
    },
  };
}
