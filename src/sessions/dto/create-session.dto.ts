import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsModelId, IsUserId } from '../../common/validation-rules.js';

export class CreateSessionDto {
  @ApiPropertyOptional({ example: 'alice', description: 'Owner; created when unknown. Absent: the built-in user "anonymous".' })
  @IsOptional()
  @IsUserId()
  user_id?: string;

  @ApiPropertyOptional({ example: 'Trip planning', maxLength: 200 })
  @IsOptional()
  @Length(1, 200)
  @IsString()
  title?: string;

  @ApiPropertyOptional({ example: 'gemini-2.5-flash', description: 'Defaults to GEMINI_MODEL.' })
  @IsOptional()
  @IsModelId()
  model?: string;

  @ApiPropertyOptional({ example: 'You are a concise assistant.', maxLength: 32000 })
  @IsOptional()
  @MaxLength(32000)
  @IsString()
  system_instruction?: string;
}
