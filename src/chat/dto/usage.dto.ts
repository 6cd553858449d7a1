import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import type { UsageReport, UsageTotals } from '../../messages/messages.service.js';
import { nanoToUsd } from '../../pricing/pricing.service.js';

const DATE_OR_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export class UsageQuery {
  @ApiPropertyOptional({ example: '2026-11-01', description: 'Inclusive: a UTC date (from its start) or an ISO-8601 timestamp.' })
  @IsOptional()
  @Matches(DATE_OR_TIMESTAMP, { message: '$property must be a date (YYYY-MM-DD) or an ISO-8601 timestamp' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-30', description: 'A UTC date counts whole (inclusive); a timestamp is exclusive.' })
  @IsOptional()
  @Matches(DATE_OR_TIMESTAMP, { message: '$property must be a date (YYYY-MM-DD) or an ISO-8601 timestamp' })
  to?: string;
}

class UsageTotalsDto {
  @ApiProperty({ example: 12, description: 'Model replies stored.' }) turns: number;
  @ApiProperty({ example: 0, description: 'Turns whose model had no price (not in total_cost_usd).' }) unpriced_turns: number;
  @ApiProperty({ example: 2400 }) prompt_tokens: number;
  @ApiProperty({ example: 0 }) cached_tokens: number;
  @ApiProperty({ example: 900 }) output_tokens: number;
  @ApiProperty({ example: 1200 }) thoughts_tokens: number;
  @ApiProperty({ example: 4500 }) total_tokens: number;
  @ApiProperty({ example: 0.00597 }) total_cost_usd: number;
}

class ModelUsageDto extends UsageTotalsDto {
  @ApiProperty({ example: 'gemini-2.5-flash' }) model: string;
}

class DayUsageDto extends UsageTotalsDto {
  @ApiProperty({ example: '2026-11-22', description: 'UTC day.' }) day: string;
}

export class UsageReportDto extends UsageTotalsDto {
  @ApiProperty({ example: 'alice' }) user_id: string;
  @ApiProperty({ type: String, nullable: true, example: '2026-11-01T00:00:00.000Z' }) from: string | null;
  @ApiProperty({ type: String, nullable: true, example: '2026-12-01T00:00:00.000Z', description: 'Exclusive.' }) to: string | null;
  @ApiProperty({ type: [ModelUsageDto] }) by_model: ModelUsageDto[];
  @ApiProperty({ type: [DayUsageDto] }) by_day: DayUsageDto[];

  static from(userId: string, from: Date | null, to: Date | null, report: UsageReport): UsageReportDto {
    return {
      user_id: userId,
      from: from?.toISOString() ?? null,
      to: to?.toISOString() ?? null,
      ...totals(report.total),
      by_model: report.byModel.map((entry) => ({ model: entry.model, ...totals(entry) })),
      by_day: report.byDay.map((entry) => ({ day: entry.day, ...totals(entry) })),
    };
  }
}

function totals(usage: UsageTotals): UsageTotalsDto {
  return {
    turns: usage.turns,
    unpriced_turns: usage.unpricedTurns,
    prompt_tokens: usage.promptTokens,
    cached_tokens: usage.cachedTokens,
    output_tokens: usage.outputTokens,
    thoughts_tokens: usage.thoughtsTokens,
    total_tokens: usage.totalTokens,
    total_cost_usd: nanoToUsd(usage.costNanoUsd)!,
  };
}

const DAY_MS = 86_400_000;

/** A date-only bound is a UTC day: `from` its start, `to` its end (so the day counts whole). */
export function usageBound(value: string | undefined, end: boolean): Date | null {
  if (value === undefined) return null;
  const dateOnly = value.length === 10;
  const time = Date.parse(dateOnly ? `${value}T00:00:00.000Z` : value);
  return new Date(dateOnly && end ? time + DAY_MS : time);
}
