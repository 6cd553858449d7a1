import type { EntityManager } from 'typeorm';
import { ChatMessageEntity } from '../messages/chat-message.entity.js';
import { countsToUsage, TOKEN_CLASSES } from '../pricing/token-usage.js';
import type { TokenUsage } from '../pricing/token-usage.js';
import { ChatSessionEntity } from '../sessions/chat-session.entity.js';

export interface UsageTotals {
  /** Model replies stored: one per turn. */
  turns: number;
  unpricedTurns: number;
  usage: TokenUsage;
  /** Sum of the priced turns, integer nano-dollars. */
  costNanoUsd: number;
}

export interface UsageReport {
  total: UsageTotals;
  byModel: (UsageTotals & { model: string })[];
  byDay: (UsageTotals & { day: string })[];
}

/** A half-open time range of ISO-8601 UTC timestamps; null ends are open. */
export interface TimeRange {
  from: string | null;
  to: string | null;
}

/** The one owner of usage and spend queries: what a user's turns used and cost. */
export class UsageRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Sums done in SQL over integers; days are UTC (timestamps are ISO-8601 UTC text). */
  async report(userId: string, range: TimeRange): Promise<UsageReport> {
    const [[total], byModel, byDay] = await Promise.all([
      this.totals(userId, range, null),
      this.totals(userId, range, 'm.model'),
      this.totals(userId, range, 'SUBSTR(m.createdAt, 1, 10)'),
    ]);
    return {
      total: total?.totals ?? { turns: 0, unpricedTurns: 0, usage: countsToUsage({}), costNanoUsd: 0 },
      byModel: byModel.map(({ key, totals }) => ({ model: key, ...totals })),
      byDay: byDay.map(({ key, totals }) => ({ day: key, ...totals })),
    };
  }

  /** What the user's turns since `since` cost, in integer nano-dollars. */
  async spentSince(userId: string, since: string): Promise<number> {
    const row = await this.modelRowsOf(userId, { from: since, to: null })
      .select('COALESCE(SUM(m.costNanoUsd), 0)', 'spent')
      .getRawOne<{ spent: string | number }>();
    return Number(row?.spent ?? 0);
  }

  private modelRowsOf(userId: string, range: TimeRange) {
    const query = this.manager
      .createQueryBuilder(ChatMessageEntity, 'm')
      .innerJoin(ChatSessionEntity, 's', 's.id = m.sessionId')
      .where('s.userId = :userId', { userId })
      .andWhere("m.role = 'model'");
    if (range.from) query.andWhere('m.createdAt >= :from', { from: range.from });
    if (range.to) query.andWhere('m.createdAt < :to', { to: range.to });
    return query;
  }

  private async totals(userId: string, range: TimeRange, groupBy: string | null) {
    const query = this.modelRowsOf(userId, range)
      .select('COUNT(*)', 'turns')
      .addSelect("SUM(CASE WHEN m.costStatus = 'unpriced' THEN 1 ELSE 0 END)", 'unpriced_turns')
      .addSelect('COALESCE(SUM(m.costNanoUsd), 0)', 'cost_nano_usd');
    for (const { key, name } of TOKEN_CLASSES) query.addSelect(`COALESCE(SUM(m.${key}), 0)`, name);
    if (groupBy) query.addSelect(groupBy, 'key').groupBy(groupBy).orderBy(groupBy, 'ASC');
    const rows = await query.getRawMany<Record<string, string | number | null>>();
    return rows.map((row) => ({
      key: String(row.key),
      totals: {
        turns: Number(row.turns),
        unpricedTurns: Number(row.unpriced_turns ?? 0),
        usage: countsToUsage(row),
        costNanoUsd: Number(row.cost_nano_usd),
      },
    }));
  }
}
