import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { IsUserId } from './validation-rules.js';

export class UserIdParams {
  @ApiProperty({ example: 'alice' })
  @IsUserId()
  user_id: string;
}

/** Any id is looked up: one that does not exist is 404 whatever its shape (ids are UUIDs). */
export class SessionIdParams {
  @ApiProperty({ format: 'uuid' })
  @IsString()
  session_id: string;
}

export class UserChatParams extends UserIdParams {
  @ApiProperty({ format: 'uuid' })
  @IsString()
  chat_id: string;
}
