import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { nanoToUsd } from '../../pricing/money.js';
import type { CostStatus } from '../../pricing/pricing.service.js';
import { TOKEN_CLASSES, usageToCounts } from '../../pricing/token-usage.js';
import type { TokenCounts } from '../../pricing/token-usage.js';
import type { Message } from '../message.js';

/** Token counts by class: one property per entry of TOKEN_CLASSES. */
export class UsageDto {}
export interface UsageDto extends TokenCounts {}
for (const { name, description } of TOKEN_CLASSES) {
  ApiProperty({ type: Number, example: 0, description })(UsageDto.prototype, name);
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

  static from(message: Message): MessageDto {
    if (message.role === 'user' || message.usage === null) {
      return { id: message.id, role: message.role, content: message.content, created_at: message.createdAt };
    }
    // One object literal, no spread: a history maps every message through here.
    return {
      id: message.id,
      role: message.role,
      content: message.content,
      created_at: message.createdAt,
      model: message.model,
      finish_reason: message.finishReason,
      usage: usageToCounts(message.usage),
      cost_usd: nanoToUsd(message.costNanoUsd),
      cost_status: message.costStatus ?? 'unpriced',
    };
  }
}
