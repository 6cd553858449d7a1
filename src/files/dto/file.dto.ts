import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { PageQuery, pageDto } from '../../common/paging.js';
import { IsUserId } from '../../common/validation-rules.js';
import { MODALITIES } from '../../core/modality.js';
import type { StoredFile } from '../file.js';
import { ACCEPTED_MIME_TYPES } from '../media-types.js';
import type { Modality } from '../media-types.js';

/** No control characters, and no bidirectional overrides (which make `gpj.exe` read as `exe.jpg`). */
const FILE_NAME = /^[^\p{Cc}\u202A-\u202E\u2066-\u2069]+$/u;

export class FileDto {
  @ApiProperty({ example: 'file_3f2a9c0d5b7e4e1f8a6b2c4d9e0f1a2b', pattern: '^file_[0-9a-f]{32}$' })
  file_id: string;

  @ApiProperty({ example: 'alice' })
  user_id: string;

  @ApiProperty({ example: 'chart.png' })
  name: string;

  @ApiProperty({ enum: [...ACCEPTED_MIME_TYPES], example: 'image/png' })
  mime_type: string;

  @ApiProperty({ enum: MODALITIES, description: '`document` is a PDF.' })
  modality: Modality;

  @ApiProperty({ type: 'integer', example: 81234 })
  bytes: number;

  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', description: 'SHA-256 of the bytes, hex.' })
  sha256: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-22T10:00:00.123Z' })
  created_at: string;

  static from(this: void, file: StoredFile): FileDto {
    return {
      file_id: file.id,
      user_id: file.userId,
      name: file.name,
      mime_type: file.mimeType,
      modality: file.modality,
      bytes: file.bytes,
      sha256: file.sha256,
      created_at: file.createdAt,
    };
  }
}

export const FilesPageDto = pageDto(FileDto, 'FilesPageDto');

export class UploadFileQuery {
  @ApiPropertyOptional({
    example: 'alice',
    description: 'Owner; created when unknown. Absent: the user of the key, or the built-in user "anonymous" (open mode, admin key).',
  })
  @IsOptional()
  @IsUserId()
  user_id?: string;

  @ApiPropertyOptional({ example: 'chart.png', maxLength: 255, default: 'file', description: 'Shown and used as the download name.' })
  @IsOptional()
  @Matches(FILE_NAME, { message: '$property must have no control characters or bidirectional overrides' })
  @Length(1, 255)
  @IsString()
  name?: string;
}

export class ListFilesQuery extends PageQuery {
  @ApiProperty({ example: 'alice', description: 'Whose files.' })
  @IsUserId()
  user_id: string;
}

export class FileIdParams {
  @ApiProperty({ example: 'file_3f2a9c0d5b7e4e1f8a6b2c4d9e0f1a2b' })
  @IsString()
  file_id: string;
}
