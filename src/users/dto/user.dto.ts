import { ApiProperty } from '@nestjs/swagger';
import { nanoToUsd } from '../../core/money.js';
import type { User } from '../user.js';

export class UserDto {
  @ApiProperty({ example: 'alice' })
  user_id: string;

  @ApiProperty({ example: 'Alice', nullable: true, type: String })
  username: string | null;

  @ApiProperty({ example: 'alice@example.com', nullable: true, type: String })
  email: string | null;

  @ApiProperty({ example: '2026-11-22T10:00:00.123Z' })
  created_at: string;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: null,
    description: 'Own daily spend limit in USD; null: USER_DAILY_BUDGET_USD applies.',
  })
  daily_budget_usd: number | null;

  static from(this: void, user: User): UserDto {
    return {
      user_id: user.userId,
      username: user.username,
      email: user.email,
      created_at: user.createdAt,
      daily_budget_usd: nanoToUsd(user.dailyBudgetNanoUsd),
    };
  }
}
