import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { nanoToUsd } from '../../pricing/pricing.service.js';
import type { CostStatus } from '../../pricing/pricing.service.js';
import type { ChatMessageEntity } from '../chat-message.entity.js';

export class UsageDto {
  @ApiProperty({ example: 20, description: 'All prompt tokens, cached ones included.' })
  prompt_tokens: number;

  @ApiProperty({ example: 0, description: 'Prompt tokens served from cache (billed at the cached rate).' })
  cached_tokens: number;

  @ApiProperty({ example: 253, description: 'Answer tokens, thinking excluded.' })
  output_tokens: number;

  @ApiProperty({ example: 260, description: 'Thinking tokens (billed at the output rate).' })
  thoughts_tokens: number;

  @ApiProperty({ example: 0 })
  tool_prompt_tokens: number;

  @ApiProperty({ example: 533 })
  total_tokens: number;
}

export class MessageDto {
  @ApiProperty({ example: 12, description: 'History order is by id.' })
  id: number;

  @ApiProperty({ enum: ['user', 'model'] })
  role: 'user' | 'model';

  @ApiProperty({ example: 'Hello!' })
  content: string;

  @ApiProperty({ example: '2026-11-22T10:00:00.123Z' })
  created_at: string;

  @ApiPropertyOptional({ example: 'gemini-2.5-flash', description: 'Model rows only: the model that answered.' })
  model?: string | null;

  @ApiPropertyOptional({ example: 'STOP', type: String, nullable: true, description: 'Model rows only.' })
  finish_reason?: string | null;

  @ApiPropertyOptional({ type: UsageDto, description: 'Model rows only.' })
  usage?: UsageDto;

  @ApiPropertyOptional({
    example: 0.0012885,
    type: Number,
    nullable: true,
    description: 'Model rows only. US dollars; null (never 0) when the model has no known price.',
  })
  cost_usd?: number | null;

  @ApiPropertyOptional({ enum: ['priced', 'unpriced'], description: 'Model rows only.' })
  cost_status?: CostStatus;

  static from(row: ChatMessageEntity): MessageDto {
    const base = { id: row.id, role: row.role, content: row.content, created_at: row.timestamp.toISOString() };
    if (row.role === 'user') return base;
    return {
      ...base,
      model: row.model,
      finish_reason: row.finishReason,
      usage: {
        prompt_tokens: row.promptTokens ?? 0,
        cached_tokens: row.cachedTokens ?? 0,
        output_tokens: row.outputTokens ?? 0,
        thoughts_tokens: row.thoughtsTokens ?? 0,
        tool_prompt_tokens: row.toolPromptTokens ?? 0,
        total_tokens: row.totalTokens ?? 0,
      },
      cost_usd: nanoToUsd(row.costNanoUsd),
      cost_status: row.costStatus ?? 'unpriced',
    };
  }
}
