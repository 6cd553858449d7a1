import { contextTokensOf } from '../messages/message.js';
import type { Message, NewTurn } from '../messages/message.js';
import { ZERO_USAGE } from '../core/token-usage.js';
import type { Session, SessionTotals } from '../sessions/session.js';
import type { TurnSession } from '../sessions/turn-target.js';
import type { CoordinationRepository } from '../coordination/coordination.repository.js';
import type { Transaction } from '../database/unit-of-work.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import type { MessagesRepository } from '../messages/messages.repository.js';
import type { SessionsRepository } from '../sessions/sessions.repository.js';
import type { SpendEntry, UsageRepository } from '../usage/usage.repository.js';
import type { UsersRepository } from '../users/users.repository.js';

/** What a turn stored and what the session has cost since. Plain data: replays reuse it as is. */
export interface TurnResult {
  sessionId: string;
  userMessage: Message;
  modelMessage: Message;
  sessionTotals: SessionTotals;
}

/** What a turn writes through: its spend, its session and user, its messages, and what it held. */
export interface TurnRepositories {
  usage: UsageRepository;
  users: UsersRepository;
  sessions: SessionsRepository;
  messages: MessagesRepository;
  idempotency: IdempotencyRepository;
  coordination: CoordinationRepository;
}

export type TurnTx = Transaction<TurnRepositories>;

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

/**
 * Everything a successful turn writes, in the caller's transaction: its line in the spend
 * ledger first, then the session (created, or its totals, `updated_at` and first title), then
 * both messages. Null when the session — or a new session's owner — was deleted while Gemini
 * answered: the spend is kept all the same, the content is not.
 */
export async function storeTurn(
  tx: TurnTx,
  target: TurnSession,
  turn: NewTurn,
  { turnId, title }: { turnId: string; title: string | null },
): Promise<TurnResult | null> {
  const { session } = target;
  await tx.usage.record(spendOf(turnId, session, turn));
  const added: SessionTotals = { messageCount: 2, totalTokens: turn.usage?.totalTokens ?? 0, totalCostNanoUsd: turn.costNanoUsd ?? 0 };
  // What the next turn starts from: this prompt and its reply, as Gemini counted them.
  const contextTokens = contextTokensOf(turn.usage?.promptTokens, turn.usage?.outputTokens);
  let sessionTotals: SessionTotals | null = added;
  if (target.kind === 'draft') {
    // An owner deleted while Gemini answered stays deleted: the turn does not bring them back.
    if (target.ownerExisted && !(await tx.users.exists(session.userId))) return null;
    await tx.users.ensureExists(session.userId, session.createdAt);
    await tx.sessions.insert({ ...session, title: session.title ?? title, updatedAt: turn.answeredAt, contextTokens, totals: added });
  } else {
    sessionTotals = await tx.sessions.recordTurn(session.id, { updatedAt: turn.answeredAt, title, added, contextTokens });
    if (!sessionTotals) return null;
  }
  const [userMessage, modelMessage] = await tx.messages.appendTurn(turn);
  return { sessionId: session.id, userMessage, modelMessage, sessionTotals };
}
