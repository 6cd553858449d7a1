import type { EntityManager } from 'typeorm';
import { ChatSessionEntity } from './chat-session.entity.js';
import type { SessionCursor } from './session-cursor.js';
import type { Session, SessionChanges, SessionTotals } from './session.js';

export class SessionsRepository {
  constructor(private readonly manager: EntityManager) {}

  private get sessions() {
    return this.manager.getRepository(ChatSessionEntity);
  }

  findById(id: string): Promise<Session | null> {
    return this.sessions.findOneBy({ id });
  }

  async insert(session: Session): Promise<void> {
    // TypeORM writes generated values back into what it inserts: give it a copy.
    await this.sessions.insert({ ...session, totals: { ...session.totals } });
  }

  /** Fields left undefined stay as they are. */
  async update(id: string, changes: SessionChanges & { updatedAt: string }): Promise<void> {
    await this.sessions.update({ id }, changes);
  }

  /**
   * Marks a turn: `updated_at`, the running totals, and `title` when the session has none yet
   * (a title set meanwhile wins). Returns the totals now, or null when the session is gone:
   * it was deleted while Gemini answered.
   */
  async recordTurn(id: string, turn: { updatedAt: string; title: string | null; added: SessionTotals }): Promise<SessionTotals | null> {
    const result = await this.sessions
      .createQueryBuilder()
      .update()
      .set({
        updatedAt: turn.updatedAt,
        title: () => 'COALESCE(title, :title)',
        totals: {
          messageCount: () => 'message_count + :messages',
          totalTokens: () => 'total_tokens + :tokens',
          totalCostNanoUsd: () => 'total_cost_nano_usd + :cost',
        },
      })
      .setParameters({ title: turn.title, messages: turn.added.messageCount, tokens: turn.added.totalTokens, cost: turn.added.totalCostNanoUsd })
      .where({ id })
      .execute();
    if ((result.affected ?? 0) === 0) return null;
    const row = await this.sessions.findOne({ select: { id: true, totals: { messageCount: true, totalTokens: true, totalCostNanoUsd: true } }, where: { id } });
    return row && { ...row.totals };
  }

  /**
   * A user's sessions, newest first, from after `cursor`. Keyset paging on (created_at, id), so
   * rows added or removed meanwhile never make a page skip or repeat one.
   */
  pageForUser(userId: string, limit: number, cursor: SessionCursor | null): Promise<Session[]> {
    const query = this.sessions
      .createQueryBuilder('s')
      .where('s.userId = :userId', { userId })
      .orderBy('s.createdAt', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(limit);
    if (cursor) {
      query.andWhere('(s.createdAt < :createdAt OR (s.createdAt = :createdAt AND s.id < :id))', cursor);
    }
    return query.getMany();
  }

  /** The user's session ids, oldest first. */
  async idsForUser(userId: string): Promise<string[]> {
    const rows = await this.sessions.find({ select: { id: true }, where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map((row) => row.id);
  }

  /** Its messages go with it (the foreign key cascades). */
  async delete(id: string): Promise<void> {
    await this.sessions.delete({ id });
  }
}
