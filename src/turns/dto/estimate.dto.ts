import { ApiProperty } from '@nestjs/swagger';
import { nanoToUsd } from '../../core/money.js';
import type { TurnEstimate } from '../estimate.service.js';

export class EstimateDto {
  @ApiProperty({ format: 'uuid' })
  session_id: string;

  @ApiProperty({
    example: 1234,
    description: "The next turn's prompt (system instruction, the stored turns that fit, the message), counted by Gemini's countTokens.",
  })
  prompt_tokens: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1048576,
    description: "The limit in force: max_context_tokens within the model's input token limit; null when neither is known.",
  })
  context_limit: number | null;

  @ApiProperty({ example: false, description: 'Whether older turns would be left out to fit.' })
  truncated: boolean;

  @ApiProperty({ example: 14, description: 'Stored messages that would be sent with the message (the message not counted).' })
  messages_in_context: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.00037,
    description: "The prompt at the session model's input rate, US dollars; null when the model has no price.",
  })
  input_cost_usd: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.0208,
    description: 'input_cost_usd plus the whole output cap (GEMINI_MAX_OUTPUT_TOKENS, thinking included) at the output rate.',
  })
  max_cost_usd: number | null;

  static from(this: void, estimate: TurnEstimate): EstimateDto {
    return {
      session_id: estimate.sessionId,
      prompt_tokens: estimate.promptTokens,
      context_limit: estimate.contextLimit,
      truncated: estimate.truncated,
      messages_in_context: estimate.messagesInContext,
      input_cost_usd: nanoToUsd(estimate.inputNanoUsd),
      max_cost_usd: nanoToUsd(estimate.maxNanoUsd),
    };
  }
}
