/** Owner of sessions created without a user id. */
export const ANONYMOUS_USER_ID = 'anonymous';

export interface User {
  userId: string;
  username: string | null;
  email: string | null;
  createdAt: string;
  /** Overrides USER_DAILY_BUDGET_USD for this user; integer nano-dollars. */
  dailyBudgetNanoUsd: number | null;
}
