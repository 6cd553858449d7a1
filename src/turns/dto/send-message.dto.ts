import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, ValidateBy, ValidateNested } from 'class-validator';
import type { ValidationArguments } from 'class-validator';

import { MAX_ATTACHMENTS } from '../../files/turn-media.js';

export const NOT_BLANK = /\S/;

export class AttachmentRefDto {
  @ApiProperty({
    example: 'file_3f2a9c0d5b7e4e1f8a6b2c4d9e0f1a2b',
    pattern: '^file_[0-9a-f]{32}$',
    description: 'A file of the session owner (POST /files).',
  })
  @IsString()
  @Matches(/^file_[0-9a-f]{32}$/, { message: '$property must be a file id (file_ and 32 hex digits)' })
  file_id: string;
}

const SENT_FILES = `Files sent with the message (at most ${MAX_ATTACHMENTS}), in order. Every later turn sends them again with this message.`;

/** The files of a message: at most ten, each `{file_id}`. */
export function Attachments(description = SENT_FILES): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({ type: [AttachmentRefDto], maxItems: MAX_ATTACHMENTS, description })(target, key);
    IsOptional()(target, key);
    IsArray()(target, key);
    ArrayMaxSize(MAX_ATTACHMENTS)(target, key);
    ValidateNested({ each: true })(target, key);
    Type(() => AttachmentRefDto)(target, key);
  };
}

function hasAttachments(body: unknown): boolean {
  const attachments = (body as { attachments?: unknown }).attachments;
  return Array.isArray(attachments) && attachments.length > 0;
}

/** A message's text: non-blank — or, when the message carries files, any text or none. */
export function MessageText(): PropertyDecorator {
  return ValidateBy({
    name: 'messageText',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        hasAttachments(args?.object)
          ? value === undefined || typeof value === 'string'
          : typeof value === 'string' && NOT_BLANK.test(value),
      defaultMessage: (args?: ValidationArguments) =>
        hasAttachments(args?.object) ? '$property must be a string' : '$property must be a non-empty string (or send attachments)',
    },
  });
}

export class SendMessageDto {
  @ApiPropertyOptional({
    example: 'What is the capital of France?',
    description:
      'At most MAX_MESSAGE_CHARS characters. Non-blank, unless the message carries attachments (then it may be empty or absent).',
  })
  @MessageText()
  message?: string;

  @Attachments()
  attachments?: AttachmentRefDto[];
}

/** A message to estimate: the same fields, nothing stored or sent. */
export class EstimateMessageDto {
  @ApiPropertyOptional({
    example: 'What is the capital of France?',
    description:
      'At most MAX_MESSAGE_CHARS characters. Non-blank, unless the message carries attachments (then it may be empty or absent).',
  })
  @MessageText()
  message?: string;

  @Attachments(`Files the message would carry (at most ${MAX_ATTACHMENTS}), weighed by Gemini's rules for their modality.`)
  attachments?: AttachmentRefDto[];
}

/** The ids of the files a message carries. */
export function fileIdsOf(body: { attachments?: AttachmentRefDto[] }): string[] {
  return body.attachments?.map((attachment) => attachment.file_id) ?? [];
}
