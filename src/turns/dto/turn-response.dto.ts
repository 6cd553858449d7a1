import { ApiProperty } from '@nestjs/swagger';
import { MessageDto } from '../../messages/dto/message.dto.js';
import { nanoToUsd } from '../../core/money.js';
import type { TurnResult } from '../store-turn.js';

export class TurnResponseDto {
  @ApiProperty({ format: 'uuid' })
  session_id: string;

  @ApiProperty({ example: 'Paris.' })
  reply: string;

  @ApiProperty({ type: MessageDto })
  user_message: MessageDto;

  @ApiProperty({ type: MessageDto })
  model_message: MessageDto;

  @ApiProperty({ example: 0.002663, description: 'What the session has cost so far, this turn included.' })
  session_total_cost_usd: number;

  static from(this: void, result: TurnResult): TurnResponseDto {
    return {
      session_id: result.sessionId,
      reply: result.modelMessage.content,
      user_message: MessageDto.from(result.userMessage),
      model_message: MessageDto.from(result.modelMessage),
      session_total_cost_usd: nanoToUsd(result.sessionTotals.totalCostNanoUsd),
    };
  }
}
