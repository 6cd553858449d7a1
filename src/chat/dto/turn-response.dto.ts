import { ApiProperty } from '@nestjs/swagger';
import { MessageDto } from '../../messages/dto/message.dto.js';
import { nanoToUsd } from '../../pricing/pricing.service.js';
import type { TurnOutcome } from '../turn.service.js';

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

  static from(outcome: TurnOutcome): TurnResponseDto {
    return {
      session_id: outcome.session.chatId,
      reply: outcome.modelRow.content,
      user_message: MessageDto.from(outcome.userRow),
      model_message: MessageDto.from(outcome.modelRow),
      session_total_cost_usd: nanoToUsd(outcome.stats.totalCostNanoUsd)!,
    };
  }
}
