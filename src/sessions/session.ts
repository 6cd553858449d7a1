export interface Session {
  id: string;
  userId: string;
  title: string | null;
  model: string;
  systemInstruction: string | null;
  createdAt: string;
  updatedAt: string;
  /** Running totals, added to by each turn in its transaction. */
  totals: SessionTotals;
}

/** A session and what its owner's limits need, read together. */
export interface SessionWithOwner {
  session: Session;
  /** The owner's own daily limit (null: the configured default applies). */
  ownerDailyBudgetNanoUsd: number | null;
}

/** What a session holds and has cost so far. */
export interface SessionTotals {
  messageCount: number;
  totalTokens: number;
  /** Sum of the priced turns, in integer nano-dollars. */
  totalCostNanoUsd: number;
}

export const EMPTY_TOTALS: SessionTotals = Object.freeze({ messageCount: 0, totalTokens: 0, totalCostNanoUsd: 0 });

export interface SessionChanges {
  title?: string | null;
  model?: string;
  systemInstruction?: string | null;
}
