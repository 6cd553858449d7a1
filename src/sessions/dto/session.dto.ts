import { ApiProperty } from '@nestjs/swagger';
import { pageDto } from '../../common/paging.js';
import { MessageDto } from '../../messages/dto/message.dto.js';
import { nanoToUsd } from '../../core/money.js';
import { TRUNCATIONS } from '../session.js';
import type { ModelNotice } from '../../models/model-catalog.js';
import type { Session, SessionTotals, Truncation } from '../session.js';

/** What Google does with a model, when it is going away. */
export class ModelNoticeDto {
  @ApiProperty({
    enum: ['deprecated', 'retired'],
    description: '`deprecated`: shuts down within 30 days; `retired`: no longer served by Google.',
  })
  status: 'deprecated' | 'retired';
  @ApiProperty({ type: String, format: 'date', nullable: true, example: '2026-12-01' }) shutdown_date: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'gemini-3.5-flash-lite', description: 'The model Google names in its place.' })
  replacement: string | null;

  static from(this: void, notice: ModelNotice): ModelNoticeDto {
    return { status: notice.status, shutdown_date: notice.shutdownDate, replacement: notice.replacement };
  }
}

/** A session's totals as the API shows them. */
export class SessionTotalsDto {
  @ApiProperty({ example: 4, description: 'User and model messages stored.' })
  message_count: number;

  @ApiProperty({ example: 1066 })
  total_tokens: number;

  @ApiProperty({ example: 0.002663, description: 'US dollars, sum of the priced turns (exact integer sum underneath).' })
  total_cost_usd: number;

  static from(this: void, totals: SessionTotals): SessionTotalsDto {
    return {
      message_count: totals.messageCount,
      total_tokens: totals.totalTokens,
      total_cost_usd: nanoToUsd(totals.totalCostNanoUsd),
    };
  }
}

export class SessionDto extends SessionTotalsDto {
  @ApiProperty({ format: 'uuid' })
  session_id: string;

  @ApiProperty({ example: 'alice' })
  user_id: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  title: string | null;

  @ApiProperty({ example: 'gemini-3.5-flash-lite' })
  model: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  system_instruction: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: null,
    description: "The session's own limit on a prompt's tokens; null: the model's input token limit.",
  })
  max_context_tokens: number | null;

  @ApiProperty({
    enum: TRUNCATIONS,
    description:
      '`auto`: a turn over the limit leaves out the oldest whole turns (stored history stays); `disabled`: it is refused, 422 CONTEXT_TOO_LONG.',
  })
  truncation: Truncation;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1048576,
    description: "The limit in force: max_context_tokens within the model's input token limit (GET /models); null when neither is known.",
  })
  context_limit: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1066,
    description:
      "What the next turn starts from: the last turn's prompt tokens plus its reply's, as Gemini counted them (the next turn adds its message). Null before the first turn.",
  })
  context_tokens: number | null;

  @ApiProperty({ example: '2026-11-22T10:00:00.123Z' })
  created_at: string;

  @ApiProperty({ example: '2026-11-22T10:05:00.456Z' })
  updated_at: string;

  @ApiProperty({
    type: ModelNoticeDto,
    nullable: true,
    description:
      "Set when Google shuts the session's model down within 30 days, or has (GET /models): it is not refused, a proxy may still serve it.",
  })
  model_notice: ModelNoticeDto | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: null,
    description:
      "The streamed turn running in the session now (its `turn` event's turn_id: resume, re-attach or cancel it); null when idle.",
  })
  active_turn_id: string | null;

  /**
   * `contextLimit`: the session's limit in force (ModelCatalog.contextLimit); `notice`: its model's
   * (ModelCatalog.noticeFor). Fields may be missing from a session remembered for an
   * Idempotency-Key replay before they existed: they read as their defaults.
   */
  static fromSession(
    session: Session,
    contextLimit: number | null,
    notice: ModelNotice | null,
    activeTurnId: string | null = null,
  ): SessionDto {
    return {
      session_id: session.id,
      user_id: session.userId,
      title: session.title,
      model: session.model,
      system_instruction: session.systemInstruction,
      max_context_tokens: session.maxContextTokens ?? null,
      truncation: session.truncation ?? 'auto',
      context_limit: contextLimit,
      context_tokens: session.contextTokens ?? null,
      model_notice: notice && ModelNoticeDto.from(notice),
      active_turn_id: activeTurnId,
      created_at: session.createdAt,
      updated_at: session.updatedAt,
      ...SessionTotalsDto.from(session.totals),
    };
  }
}

export class SessionHistoryDto extends SessionTotalsDto {
  @ApiProperty({ format: 'uuid' })
  session_id: string;

  @ApiProperty({ type: [MessageDto] })
  messages: MessageDto[];
}

export const SessionsPageDto = pageDto(SessionDto, 'SessionsPageDto');
export const MessagesPageDto = pageDto(MessageDto, 'MessagesPageDto');

export class SessionExportDto {
  @ApiProperty({ type: SessionDto })
  session: SessionDto;

  @ApiProperty({ type: [MessageDto], description: 'Every message, in order; model messages carry usage and cost.' })
  messages: MessageDto[];

  @ApiProperty({ example: '2026-11-22T10:00:00.123Z' })
  exported_at: string;
}
