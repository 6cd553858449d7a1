import { Column, Entity, PrimaryColumn } from 'typeorm';
import { integerColumn, timestampColumn } from '../database/columns.js';
import type { User } from './user.js';

@Entity('users')
export class UserEntity implements User {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  username: string | null;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  @Column(timestampColumn('created_at'))
  createdAt: string;

  @Column(integerColumn('daily_budget_nano_usd'))
  dailyBudgetNanoUsd: number | null;
}
