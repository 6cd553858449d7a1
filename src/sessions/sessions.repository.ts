import type { EntityManager } from 'typeorm';
import { newestFirstPage } from '../database/keyset-page.js';
import { Sql } from '../database/sql.js';
import { ChatSessionEntity } from './chat-session.entity.js';
import type { KeysetCursor } from '../common/keyset-cursor.js';
import type { Session, SessionChanges, SessionTotals, SessionWithOwner, Truncation } from './session.js';

interface TotalsRow {
  message_count: number | string;
  total_tokens: number | string;
  total_cost_nano_usd: number | string;
}

interface SessionRow extends TotalsRow {
  chat_id: string;
  user_id: string;
  title: string | null;
  model: string;
  system_instruction: string | null;
  max_context_tokens: number | string | null;
  truncation: Truncation;
  context_tokens: number | string | null;
  created_at: string;
  updated_at: string;
  owner_daily_budget_nano_usd: number | string | null;
}

/** The session and its owner's daily budget, in one read: all a turn needs before its history. */
const FIND_WITH_OWNER = new Sql<SessionRow>(
  `SELECT s.chat_id, s.user_id, s.title, s.model, s.system_instruction, s.max_context_tokens, s.truncation, s.created_at, s.updated_at,
          s.context_tokens, s.message_count, s.total_tokens, s.total_cost_nano_usd, u.daily_budget_nano_usd AS owner_daily_budget_nano_usd
     FROM chat_sessions s LEFT JOIN users u ON u.user_id = s.user_id
    WHERE s.chat_id = :id`,
);

const INSERT = new Sql(
  `INSERT INTO chat_sessions (chat_id, user_id, title, model, system_instruction, max_context_tokens, truncation, created_at, updated_at,
                              context_tokens, message_count, total_tokens, total_cost_nano_usd)
   VALUES (:id, :userId, :title, :model, :systemInstruction, :maxContextTokens, :truncation, :createdAt, :updatedAt,
           :contextTokens, :messageCount, :totalTokens, :totalCostNanoUsd)`,
);

const RECORD_TURN = new Sql<TotalsRow>(
  `UPDATE chat_sessions
      SET updated_at = :updatedAt, title = COALESCE(title, :title),
          message_count = message_count + :messages, total_tokens = total_tokens + :tokens,
          total_cost_nano_usd = total_cost_nano_usd + :cost,
          context_tokens = :contextTokens
    WHERE chat_id = :id
    RETURNING message_count, total_tokens, total_cost_nano_usd`,
);

export class SessionsRepository {
  constructor(private readonly manager: EntityManager) {}

  private get sessions() {
    return this.manager.getRepository(ChatSessionEntity);
  }

  async findWithOwner(id: string): Promise<SessionWithOwner | null> {
    const [row] = await FIND_WITH_OWNER.rows(this.manager, { id });
    if (!row) return null;
    const budget = row.owner_daily_budget_nano_usd;
    return { session: toSession(row), ownerDailyBudgetNanoUsd: budget === null ? null : Number(budget) };
  }

  async insert({ totals, ...session }: Session): Promise<void> {
    await INSERT.execute(this.manager, { ...session, ...totals });
  }

  /** Fields left undefined stay as they are. */
  async update(id: string, changes: SessionChanges & { updatedAt: string }): Promise<void> {
    await this.sessions.update({ id }, changes);
  }

  /**
   * Marks a turn: `updated_at`, the running totals, what its context weighed, and `title` when
   * the session has none yet (a title set meanwhile wins). Returns the totals now, or null when
   * the session is gone: it was deleted while Gemini answered.
   */
  async recordTurn(
    id: string,
    turn: { updatedAt: string; title: string | null; added: SessionTotals; contextTokens: number | null },
  ): Promise<SessionTotals | null> {
    const { added } = turn;
    const [row] = await RECORD_TURN.rows(this.manager, {
      id,
      updatedAt: turn.updatedAt,
      title: turn.title,
      messages: added.messageCount,
      tokens: added.totalTokens,
      cost: added.totalCostNanoUsd,
      contextTokens: turn.contextTokens,
    });
    return row ? toTotals(row) : null;
  }

  /**
   * A user's sessions, newest first, from after `cursor`. Keyset paging on (created_at, id), so
   * rows added or removed meanwhile never make a page skip or repeat one.
   */
  pageForUser(userId: string, limit: number, cursor: KeysetCursor | null): Promise<Session[]> {
    return newestFirstPage(this.sessions.createQueryBuilder('s').where('s.userId = :userId', { userId }), 's', limit, cursor);
  }

  /** The user's session ids, oldest first. */
  async idsForUser(userId: string): Promise<string[]> {
    const rows = await this.sessions.find({ select: { id: true }, where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map((row) => row.id);
  }

  /** Every model some session is set to. */
  async modelsInUse(): Promise<string[]> {
    const rows: { model: string }[] = await this.sessions.createQueryBuilder('s').select('DISTINCT s.model', 'model').getRawMany();
    return rows.map((row) => row.model);
  }

  /** Its messages go with it (the foreign key cascades). */
  async delete(id: string): Promise<void> {
    await this.sessions.delete({ id });
  }
}

function toTotals(row: TotalsRow): SessionTotals {
  return {
    messageCount: Number(row.message_count),
    totalTokens: Number(row.total_tokens),
    totalCostNanoUsd: Number(row.total_cost_nano_usd),
  };
}

function toSession(row: SessionRow): Session {
  return {
    id: row.chat_id,
    userId: row.user_id,
    title: row.title,
    model: row.model,
    systemInstruction: row.system_instruction,
    maxContextTokens: nullableNumber(row.max_context_tokens),
    truncation: row.truncation,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    contextTokens: nullableNumber(row.context_tokens),
    totals: toTotals(row),
  };
}

function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}
