import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { IsUserId } from '../../common/validation-rules.js';
import { MessageDto, UsageDto } from '../../messages/dto/message.dto.js';
import type { Message } from '../../messages/message.js';
import type { TurnResult } from '../store-turn.js';
import { AttachmentRefDto, Attachments, MessageText } from './send-message.dto.js';

export class ChatRequestDto {
  @ApiProperty({ example: 'alice', description: 'Created when unknown.' })
  @IsUserId()
  user_id: string;

  @ApiPropertyOptional({
    example: 'Hello!',
    description: 'Non-blank, unless the message carries attachments (then it may be empty or absent).',
  })
  @MessageText()
  message?: string;

  @Attachments()
  attachments?: AttachmentRefDto[];

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: "Continue this chat (must be the user's; else 404); absent or null: start a new one.",
  })
  @IsOptional()
  @IsString()
  chat_id?: string | null;
}

export class ChatResponseDto {
  @ApiProperty({ example: 'Hello! How can I help?' })
  response: string;

  @ApiProperty({ format: 'uuid' })
  chat_id: string;

  @ApiProperty({ type: UsageDto })
  usage: UsageDto;

  @ApiProperty({ example: 0.0012885, type: Number, nullable: true, description: 'US dollars; null when unpriced.' })
  cost_usd: number | null;

  static from(this: void, result: TurnResult): ChatResponseDto {
    const reply = MessageDto.from(result.modelMessage);
    return { response: reply.content, chat_id: result.sessionId, usage: reply.usage!, cost_usd: reply.cost_usd ?? null };
  }
}

export class ChatListDto {
  @ApiProperty({ type: [String], example: ['0b5c2a7e-…'], description: 'Oldest first.' })
  chat_sessions: string[];
}

export class HistoryEntryDto {
  @ApiProperty({ enum: ['user', 'model'] })
  role: 'user' | 'model';

  @ApiProperty({ example: 'Hello!' })
  content: string;

  @ApiProperty({ example: '2026-11-22T10:00:00.123Z' })
  timestamp: string;

  static from(this: void, message: Message): HistoryEntryDto {
    return { role: message.role, content: message.content, timestamp: message.createdAt };
  }
}

export class ChatHistoryDto {
  @ApiProperty({ type: [HistoryEntryDto] })
  history: HistoryEntryDto[];
}
