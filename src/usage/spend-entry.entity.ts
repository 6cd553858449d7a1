import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { integerColumn, timestampColumn, tokenColumns, totalColumn } from '../database/columns.js';
import type { CostStatus } from '../core/cost-status.js';
import type { TokenKey } from '../core/token-usage.js';

/**
 * The spend ledger: one row per turn, written in the turn's transaction. No foreign keys:
 * deleting a session or a user removes content, never what was spent.
 */
@Entity('spend_ledger')
@Index('idx_spend_ledger_user', ['userId', 'createdAt'])
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- its token columns are declared below, from TOKEN_CLASSES
export class SpendEntryEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  /** Names the turn (null for turns stored before the ledger existed). */
  @Column({ name: 'turn_id', type: 'varchar', length: 36, nullable: true })
  turnId: string | null;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ name: 'session_id', type: 'varchar', length: 36 })
  sessionId: string;

  @Column({ type: 'varchar', length: 100 })
  model: string;

  /** Integer nano-dollars; null when unpriced. */
  @Column(integerColumn('cost_nano_usd'))
  costNanoUsd: number | null;

  @Column({ name: 'cost_status', type: 'varchar', length: 10 })
  costStatus: CostStatus;

  /** The table entry whose rates priced the turn (null when unpriced). */
  @Column({ name: 'priced_as', type: 'varchar', length: 100, nullable: true })
  pricedAs: string | null;

  @Column(timestampColumn('created_at'))
  createdAt: string;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the type of those columns
export interface SpendEntryEntity extends Record<TokenKey, number> {}
tokenColumns(SpendEntryEntity, { nullable: false });

/** The running total of a user's spend on one UTC day: what a budget check reads. */
@Entity('spend_daily')
export class DailySpendEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  /** `YYYY-MM-DD`, UTC. */
  @PrimaryColumn({ type: 'varchar', length: 10 })
  day: string;

  @Column(totalColumn('turns'))
  turns: number;

  @Column(totalColumn('cost_nano_usd'))
  costNanoUsd: number;
}
