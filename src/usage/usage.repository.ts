import type { EntityManager } from 'typeorm';
import { utcDay } from '../core/clock.js';
import { Sql } from '../database/sql.js';
import type { CostStatus } from '../core/cost-status.js';
import { countsToUsage, TOKEN_CLASSES, usageToCounts } from '../core/token-usage.js';
import type { TokenUsage } from '../core/token-usage.js';
import { SpendEntryEntity } from './spend-entry.entity.js';

/** What one turn spent: a line of the ledger. */
export interface SpendEntry {
  turnId: string;
  userId: string;
  sessionId: string;
  model: string;
  usage: TokenUsage;
  /** Integer nano-dollars; null when unpriced. */
  costNanoUsd: number | null;
  costStatus: CostStatus;
  /** The table entry whose rates priced the turn (null when unpriced). */
  pricedAs: string | null;
  createdAt: string;
}

export interface UsageTotals {
  /** Turns spent: one per model reply. */
  turns: number;
  unpricedTurns: number;
  /** Turns priced at the requested model's rates: the model that answered had none. */
  estimatedTurns: number;
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

const LEDGER_COLUMNS = [
  'turn_id',
  'user_id',
  'session_id',
  'model',
  'cost_nano_usd',
  'cost_status',
  'priced_as',
  'created_at',
  ...TOKEN_CLASSES.map(({ name }) => name),
];

const RECORD_LINE = new Sql(
  `INSERT INTO spend_ledger (${LEDGER_COLUMNS.join(', ')}) VALUES (${LEDGER_COLUMNS.map((column) => `:${column}`).join(', ')})`,
);

const ADD_TO_DAY = new Sql(
  `INSERT INTO spend_daily (user_id, day, turns, cost_nano_usd) VALUES (:userId, :day, 1, :cost)
   ON CONFLICT (user_id, day) DO UPDATE
     SET turns = spend_daily.turns + 1, cost_nano_usd = spend_daily.cost_nano_usd + EXCLUDED.cost_nano_usd`,
);

/**
 * The one owner of spend: the ledger every turn is written to (nothing deletes from it) and the
 * running daily totals budgets read.
 */
export class UsageRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Writes the turn's line and adds it to the user's total of that UTC day (same transaction as the turn). */
  async record(entry: SpendEntry): Promise<void> {
    await RECORD_LINE.execute(this.manager, {
      turn_id: entry.turnId,
      user_id: entry.userId,
      session_id: entry.sessionId,
      model: entry.model,
      cost_nano_usd: entry.costNanoUsd,
      cost_status: entry.costStatus,
      priced_as: entry.pricedAs,
      created_at: entry.createdAt,
      ...usageToCounts(entry.usage),
    });
    await ADD_TO_DAY.execute(this.manager, { userId: entry.userId, day: utcDay(entry.createdAt), cost: entry.costNanoUsd ?? 0 });
  }

  /** As `record`, unless the turn's line is there already (a retry of a write that may have committed). */
  async recordOnce(entry: SpendEntry): Promise<void> {
    if (!(await this.manager.existsBy(SpendEntryEntity, { turnId: entry.turnId }))) await this.record(entry);
  }

  /** Whether the ledger has anything of this user (a deleted user's usage stays readable). */
  hasSpendOf(userId: string): Promise<boolean> {
    return this.manager.existsBy(SpendEntryEntity, { userId });
  }

  /** Sums done in SQL over integers; days are UTC (timestamps are ISO-8601 UTC text). */
  async report(userId: string, range: TimeRange): Promise<UsageReport> {
    const [[total], byModel, byDay] = await Promise.all([
      this.totals(userId, range, null),
      this.totals(userId, range, 'e.model'),
      this.totals(userId, range, 'SUBSTR(e.createdAt, 1, 10)'),
    ]);
    return {
      total: total?.totals ?? { turns: 0, unpricedTurns: 0, estimatedTurns: 0, usage: countsToUsage({}), costNanoUsd: 0 },
      byModel: byModel.map(({ key, totals }) => ({ model: key, ...totals })),
      byDay: byDay.map(({ key, totals }) => ({ day: key, ...totals })),
    };
  }

  private async totals(userId: string, range: TimeRange, groupBy: string | null) {
    const query = this.manager
      .createQueryBuilder(SpendEntryEntity, 'e')
      .where('e.userId = :userId', { userId })
      .select('COUNT(*)', 'turns')
      .addSelect("SUM(CASE WHEN e.costStatus = 'unpriced' THEN 1 ELSE 0 END)", 'unpriced_turns')
      .addSelect("SUM(CASE WHEN e.costStatus = 'estimated' THEN 1 ELSE 0 END)", 'estimated_turns')
      .addSelect('COALESCE(SUM(e.costNanoUsd), 0)', 'cost_nano_usd');
    if (range.from) query.andWhere('e.createdAt >= :from', { from: range.from });
    if (range.to) query.andWhere('e.createdAt < :to', { to: range.to });
    for (const { key, name } of TOKEN_CLASSES) query.addSelect(`COALESCE(SUM(e.${key}), 0)`, name);
    if (groupBy) query.addSelect(groupBy, 'key').groupBy(groupBy).orderBy(groupBy, 'ASC');
    const rows = await query.getRawMany<Record<string, string | number | null>>();
    return rows.map((row) => ({
      key: String(row.key),
      totals: {
        turns: Number(row.turns),
        unpricedTurns: Number(row.unpriced_turns ?? 0),
        estimatedTurns: Number(row.estimated_turns ?? 0),
        usage: countsToUsage(row),
        costNanoUsd: Number(row.cost_nano_usd),
      },
    }));
  }
}
