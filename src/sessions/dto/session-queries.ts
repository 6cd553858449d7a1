import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, MaxLength, ValidateIf } from 'class-validator';
import { IsModelId, IsUserId } from '../../common/validation-rules.js';
import { ContextSettingsDto } from './create-session.dto.js';
import { PageQuery } from '../../common/paging.js';

export class ListSessionsQuery extends PageQuery {
  @ApiProperty({ example: 'alice', description: 'Whose sessions.' })
  @IsUserId()
  user_id: string;
}

export class UpdateSessionDto extends ContextSettingsDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    minLength: 1,
    maxLength: 200,
    example: 'Trip planning',
    description: 'null clears it.',
  })
  @IsOptional()
  @ValidateIf((_dto, value) => value !== null)
  @Length(1, 200)
  @IsString()
  title?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 32000,
    example: 'Answer in French.',
    description: 'Used from the next turn on; null clears it.',
  })
  @IsOptional()
  @ValidateIf((_dto, value) => value !== null)
  @MaxLength(32000)
  @IsString()
  system_instruction?: string | null;

  @ApiPropertyOptional({ example: 'gemini-3.8-flash', description: 'Used from the next turn on; cannot be null.' })
  @ValidateIf((_dto, value) => value !== undefined)
  @IsModelId()
  model?: string;
}

export const EXPORT_FORMATS = ['json', 'markdown'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportQuery {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'json' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;
}
