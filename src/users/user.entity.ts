import { Column, Entity, PrimaryColumn } from 'typeorm';
import { integerColumn, timestampColumn } from '../database/columns.js';

@Entity('users')
export class UserEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  username: string | null;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  @Column(timestampColumn('created_at'))
  createdAt: Date;

  /** Overrides USER_DAILY_BUDGET_USD for this user; integer nano-dollars. */
  @Column(integerColumn('daily_budget_nano_usd'))
  dailyBudgetNanoUsd: number | null;
}
