import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, MaxLength, ValidateIf } from 'class-validator';
import { IsModelId, IsTokenLimit, IsUserId } from '../../common/validation-rules.js';
import { TRUNCATIONS } from '../session.js';
import type { Truncation } from '../session.js';

/** How a session's turns fit the context window: taken on creation and by PATCH alike. */
export class ContextSettingsDto {
  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    example: 8000,
    description:
      "The most prompt tokens a turn may take (within the model's input_token_limit, GET /models); null or absent: the model's limit.",
  })
  @IsOptional()
  @ValidateIf((_dto, value) => value !== null)
  @IsTokenLimit()
  max_context_tokens?: number | null;

  @ApiPropertyOptional({
    enum: TRUNCATIONS,
    description:
      'Over the limit, `auto` (the default) leaves out the oldest whole turns; `disabled` refuses the turn (422 CONTEXT_TOO_LONG).',
  })
  @ValidateIf((_dto, value) => value !== undefined)
  @IsIn(TRUNCATIONS)
  truncation?: Truncation;
}

export class CreateSessionDto extends ContextSettingsDto {
  @ApiPropertyOptional({ example: 'alice', description: 'Owner; created when unknown. Absent: the built-in user "anonymous".' })
  @IsOptional()
  @IsUserId()
  user_id?: string;

  @ApiPropertyOptional({ example: 'Trip planning', minLength: 1, maxLength: 200 })
  @IsOptional()
  @Length(1, 200)
  @IsString()
  title?: string;

  @ApiPropertyOptional({ example: 'gemini-3.5-flash-lite', description: 'Defaults to GEMINI_MODEL.' })
  @IsOptional()
  @IsModelId()
  model?: string;

  @ApiPropertyOptional({ example: 'You are a concise assistant.', maxLength: 32000 })
  @IsOptional()
  @MaxLength(32000)
  @IsString()
  system_instruction?: string;
}
