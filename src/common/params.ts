import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { IsUserId } from './validation-rules.js';

export class UserIdParams {
  @ApiProperty({ example: 'alice' })
  @IsUserId()
  user_id: string;
}

export class SessionIdParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  session_id: string;
}

export class UserChatParams extends UserIdParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  chat_id: string;
}
