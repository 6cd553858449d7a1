export const TRUNCATIONS = ['auto', 'disabled'] as const;
/** `auto`: a turn that would not fit leaves out the oldest whole turns. `disabled`: it is refused. */
export type Truncation = (typeof TRUNCATIONS)[number];

export interface Session {
  id: string;
  userId: string;
  title: string | null;
  model: string;
  systemInstruction: string | null;
  /** The session's own limit on a prompt's tokens; null: the model's input token limit. */
  maxContextTokens: number | null;
  truncation: Truncation;
  createdAt: string;
  updatedAt: string;
  /**
   * The last turn's prompt tokens plus its reply's, as Gemini counted them: what the next turn
   * starts from. Null before the first turn, or when Gemini's counts were not valid.
   */
  contextTokens: number | null;
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
  maxContextTokens?: number | null;
  truncation?: Truncation;
}
