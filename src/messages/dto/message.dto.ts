import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { nanoToUsd } from '../../core/money.js';
import { COST_STATUSES } from '../../core/cost-status.js';
import type { CostStatus } from '../../core/cost-status.js';
import { MODALITIES } from '../../core/modality.js';
import type { Modality } from '../../core/modality.js';
import { FLAT_TOKEN_CLASSES, usageToJson } from '../../core/token-usage.js';
import type { ByModality, FlatTokenName } from '../../core/token-usage.js';
import type { Message, MessageAttachment } from '../message.js';

/** Tokens of one count by modality: one integer property per entry of MODALITIES, adding up to that count. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- its properties are declared below, from MODALITIES
export class ByModalityDto {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the type of those properties
export interface ByModalityDto extends ByModality {}
for (const modality of MODALITIES) {
  ApiProperty({ type: 'integer', minimum: 0, example: 0 })(ByModalityDto.prototype, modality);
}

/**
 * Token counts by class: one property per flat entry of TOKEN_CLASSES, and the prompt and cached
 * tokens split by modality (the media shares that are not flat fields are there only).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- its token fields are declared below, from TOKEN_CLASSES
export class UsageDto {
  @ApiProperty({
    type: ByModalityDto,
    description: 'prompt_tokens by modality (promptTokensDetails); text is the rest of the prompt. Adds up to prompt_tokens.',
  })
  prompt_tokens_by_modality: ByModalityDto;

  @ApiProperty({
    type: ByModalityDto,
    description: 'cached_tokens by modality (cacheTokensDetails); text is the rest. Adds up to cached_tokens.',
  })
  cached_tokens_by_modality: ByModalityDto;
}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the type of those fields
export interface UsageDto extends Record<FlatTokenName, number> {}
for (const { name, description } of FLAT_TOKEN_CLASSES) {
  ApiProperty({ type: 'integer', minimum: 0, example: 0, description })(UsageDto.prototype, name);
}

/** What the model saw besides the turn's own message. */
export class MessageContextDto {
  @ApiProperty({ example: 14, description: "Earlier stored messages sent with the turn's message (it not counted)." })
  messages: number;

  @ApiProperty({ type: Number, nullable: true, example: 37, description: 'The first of them; null when none was sent.' })
  first_message_id: number | null;

  @ApiProperty({ example: false, description: 'Whether older messages were left out to fit the context limit (they stay stored).' })
  truncated: boolean;
}

/** A file a message carried: the `File` fields as they were when it was sent, and whether it was deleted since. */
export class MessageAttachmentDto {
  @ApiProperty({ example: 'file_3f2a9c0d5b7e4e1f8a6b2c4d9e0f1a2b' })
  file_id: string;

  @ApiProperty({ example: 'alice' })
  user_id: string;

  @ApiProperty({ example: 'chart.png' })
  name: string;

  @ApiProperty({ example: 'image/png' })
  mime_type: string;

  @ApiProperty({ enum: MODALITIES, description: '`document` is a PDF.' })
  modality: Modality;

  @ApiProperty({ type: 'integer', example: 81234 })
  bytes: number;

  @ApiProperty({
    example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    description: 'SHA-256 of the bytes sent, hex.',
  })
  sha256: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-22T10:00:00.123Z', description: 'When the file was uploaded.' })
  created_at: string;

  @ApiProperty({ example: false, description: 'The file was deleted since: later turns send Gemini a one-line note in its place.' })
  deleted: boolean;

  static from(this: void, attachment: MessageAttachment): MessageAttachmentDto {
    return {
      file_id: attachment.fileId,
      user_id: attachment.userId,
      name: attachment.name,
      mime_type: attachment.mimeType,
      modality: attachment.modality,
      bytes: attachment.bytes,
      sha256: attachment.sha256,
      created_at: attachment.createdAt,
      deleted: attachment.deleted,
    };
  }
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

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'gemini-3.5-flash-lite',
    description: 'Model rows only: the model that answered.',
  })
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

  @ApiPropertyOptional({
    enum: COST_STATUSES,
    description:
      "Model rows only. `priced`: at the answering model's rates; `estimated`: the answering model has no price, so at the requested one's " +
      '(Google reroutes retired models); `unpriced`: no price known, cost_usd is null.',
  })
  cost_status?: CostStatus;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'gemini-3.5-flash-lite',
    description: 'Model rows only: the model whose rates priced the reply; null when unpriced.',
  })
  priced_as?: string | null;

  @ApiPropertyOptional({ type: MessageContextDto, nullable: true, description: 'Model rows only: what the model saw.' })
  context?: MessageContextDto | null;

  @ApiPropertyOptional({
    type: [MessageAttachmentDto],
    description: 'User rows only: the files the message carried, in order (an empty list when none).',
  })
  attachments?: MessageAttachmentDto[];

  static from(this: void, message: Message): MessageDto {
    if (message.role === 'user') {
      return {
        id: message.id,
        role: message.role,
        content: message.content,
        created_at: message.createdAt,
        // `?? []`: replays remembered before attachments existed lack them.
        attachments: (message.attachments ?? []).map(MessageAttachmentDto.from),
      };
    }
    if (message.usage === null) return { id: message.id, role: message.role, content: message.content, created_at: message.createdAt };
    // One object literal, no spread: a history maps every message through here.
    return {
      id: message.id,
      role: message.role,
      content: message.content,
      created_at: message.createdAt,
      model: message.model,
      finish_reason: message.finishReason,
      usage: usageToJson(message.usage),
      cost_usd: nanoToUsd(message.costNanoUsd),
      cost_status: message.costStatus ?? 'unpriced',
      // `?? null`: replays remembered before these fields existed lack them.
      priced_as: message.pricedAs ?? null,
      context: message.context
        ? { messages: message.context.messages, first_message_id: message.context.firstMessageId, truncated: message.context.truncated }
        : null,
    };
  }
}
