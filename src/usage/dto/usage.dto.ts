import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { UsageDto } from '../../messages/dto/message.dto.js';
import { nanoToUsd } from '../../core/money.js';
import { usageToJson } from '../../core/token-usage.js';
import type { TimeRange, UsageReport, UsageTotals } from '../usage.repository.js';

const DATE_OR_TIMESTAMP = /^\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?))?$/;

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

/** Turns, their token counts by class and their exact cost. */
class UsageTotalsDto extends UsageDto {
  @ApiProperty({ example: 12, description: 'Model replies stored.' }) turns: number;
  @ApiProperty({ example: 0, description: 'Turns whose model had no price (not in total_cost_usd).' }) unpriced_turns: number;
  @ApiProperty({
    example: 0,
    description: "Turns priced at the requested model's rates because the model that answered had no price (in total_cost_usd).",
  })
  estimated_turns: number;
  @ApiProperty({ example: 0.00597 }) total_cost_usd: number;
}

class ModelUsageDto extends UsageTotalsDto {
  @ApiProperty({ example: 'gemini-3.5-flash-lite' }) model: string;
}

class DayUsageDto extends UsageTotalsDto {
  @ApiProperty({ format: 'date', example: '2026-11-22', description: 'UTC day.' }) day: string;
}

export class UsageReportDto extends UsageTotalsDto {
  @ApiProperty({ example: 'alice' }) user_id: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-11-01T00:00:00.000Z' }) from: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-12-01T00:00:00.000Z', description: 'Exclusive.' }) to:
    string | null;
  @ApiProperty({ type: [ModelUsageDto] }) by_model: ModelUsageDto[];
  @ApiProperty({ type: [DayUsageDto] }) by_day: DayUsageDto[];

  static from(this: void, userId: string, range: TimeRange, report: UsageReport): UsageReportDto {
    return {
      user_id: userId,
      from: range.from,
      to: range.to,
      ...totals(report.total),
      by_model: report.byModel.map((entry) => ({ model: entry.model, ...totals(entry) })),
      by_day: report.byDay.map((entry) => ({ day: entry.day, ...totals(entry) })),
    };
  }
}

function totals(entry: UsageTotals): UsageTotalsDto {
  return {
    turns: entry.turns,
    unpriced_turns: entry.unpricedTurns,
    estimated_turns: entry.estimatedTurns,
    ...usageToJson(entry.usage),
    total_cost_usd: nanoToUsd(entry.costNanoUsd),
  };
}
