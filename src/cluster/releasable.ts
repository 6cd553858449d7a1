import type { Repositories } from '../database/unit-of-work.js';

/**
 * Something a turn holds while it runs (its session's lease, its budget reservation). Released
 * in the transaction that stores the turn, so nobody sees the turn stored with the hold still
 * there, or the hold gone before the turn is stored; and released again, on its own, after the
 * turn whatever happened (a turn that failed stores nothing; releasing twice is harmless).
 */
export interface Releasable {
  /** Releases inside the turn's unit of work: takes effect when it commits. */
  releaseWith(repositories: Repositories): Promise<void>;
  /** Makes sure it is released. */
  release(): Promise<void>;
}

export const NOTHING_HELD: Releasable = Object.freeze({
  releaseWith: async () => undefined,
  release: async () => undefined,
});
