import { ApiProperty } from '@nestjs/swagger';
import type { UserEntity } from '../user.entity.js';

export class UserDto {
  @ApiProperty({ example: 'alice' })
  user_id: string;

  @ApiProperty({ example: 'Alice', nullable: true, type: String })
  username: string | null;

  @ApiProperty({ example: 'alice@example.com', nullable: true, type: String })
  email: string | null;

  @ApiProperty({ example: '2026-11-22T10:00:00.123Z' })
  created_at: string;

  static from(user: UserEntity): UserDto {
    return {
      user_id: user.userId,
      username: user.username,
      email: user.email,
      created_at: user.createdAt.toISOString(),
    };
  }
}
