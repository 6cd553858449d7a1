import type { Repositories } from '../database/unit-of-work.js';

/**
 * Something a turn holds while it runs (its session's lease, its budget reservation). Released
 * in the transaction that stores the turn, so nobody sees the turn stored with the hold still
 * there, or the hold gone before the turn is stored; released on its own only when that
 * transaction never committed (a turn that failed stores nothing).
 */
export interface Releasable {
  /** Releases inside the turn's unit of work: takes effect when it commits. */
  releaseWith(repositories: Repositories): Promise<void>;
  /** Makes sure it is released: nothing to do once a transaction released it. */
  release(): Promise<void>;
}

export const NOTHING_HELD: Releasable = Object.freeze({
  releaseWith: async () => undefined,
  release: async () => undefined,
});

/**
 * A hold released by `inTransaction` with the turn's transaction, or by `alone` when no such
 * transaction committed; `gone` runs once, when it is released either way.
 */
export function hold({
  inTransaction,
  alone,
  gone,
}: {
  inTransaction: (repositories: Repositories) => Promise<void>;
  alone: () => Promise<void>;
  gone: () => void;
}): Releasable {
  let released = false;
  const settle = () => {
    if (released) return;
    released = true;
    gone();
  };
  return {
    releaseWith: async (repositories) => {
      await inTransaction(repositories);
      repositories.afterCommit(settle);
    },
    release: async () => {
      if (released) return;
      try {
        await alone();
      } finally {
        settle();
      }
    },
  };
}
