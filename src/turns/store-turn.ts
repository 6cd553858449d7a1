import type { Repositories } from '../database/unit-of-work.js';
import { contextTokensOf } from '../messages/message.js';
import type { Message, NewTurn } from '../messages/message.js';
import { ZERO_USAGE } from '../core/token-usage.js';
import type { Session, SessionTotals } from '../sessions/session.js';
import type { SpendEntry } from '../usage/usage.repository.js';

/** The ledger line of a turn. */
export function spendOf(turnId: string, session: Session, turn: NewTurn): SpendEntry {
  return {
    turnId,
    userId: session.userId,
    sessionId: session.id,
    model: turn.model,
    usage: turn.usage ?? ZERO_USAGE,
    costNanoUsd: turn.costNanoUsd,
    costStatus: turn.costStatus,
    pricedAs: turn.pricedAs,
    createdAt: turn.answeredAt,
  };
}

export interface StoredTurn {
  userMessage: Message;
  modelMessage: Message;
  sessionTotals: SessionTotals;
}

/**
 * Everything a successful turn writes, in the caller's unit of work: its line in the spend
 * ledger first, then the session (created, or its totals, `updated_at` and first title), then
 * both messages. Null when the session — or a new session's owner — was deleted while Gemini
 * answered: the spend is kept all the same, the content is not.
 */
export async function storeTurn(
  repositories: Repositories,
  session: Session,
  turn: NewTurn,
  { turnId, isNew, ownerExisted, title }: { turnId: string; isNew: boolean; ownerExisted: boolean; title: string | null },
): Promise<StoredTurn | null> {
  await repositories.usage.record(spendOf(turnId, session, turn));
  const added: SessionTotals = { messageCount: 2, totalTokens: turn.usage?.totalTokens ?? 0, totalCostNanoUsd: turn.costNanoUsd ?? 0 };
  // What the next turn starts from: this prompt and its reply, as Gemini counted them.
  const contextTokens = contextTokensOf(turn.usage?.promptTokens, turn.usage?.outputTokens);
  let sessionTotals: SessionTotals | null = added;
  if (isNew) {
    // An owner deleted while Gemini answered stays deleted: the turn does not bring them back.
    if (ownerExisted && !(await repositories.users.exists(session.userId))) return null;
    await repositories.users.ensureExists(session.userId, session.createdAt);
    await repositories.sessions.insert({ ...session, title: session.title ?? title, updatedAt: turn.answeredAt, contextTokens, totals: added });
  } else {
    sessionTotals = await repositories.sessions.recordTurn(session.id, { updatedAt: turn.answeredAt, title, added, contextTokens });
    if (!sessionTotals) return null;
  }
  const [userMessage, modelMessage] = await repositories.messages.appendTurn(turn);
  return { userMessage, modelMessage, sessionTotals };
}
