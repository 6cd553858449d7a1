import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ModelCatalog } from './model-catalog.js';
import { MODEL_STATUSES, pricesAt } from './model-table.js';
import type { ModelStatus } from './model-table.js';

const NULL_RATE = 'null: not known, and a call with tokens of this class is unpriced.';

/** USD per 1M tokens. */
class RatesDto {
  @ApiProperty({ example: 0.3 }) input_per_million_usd: number;
  @ApiProperty({ type: Number, nullable: true, example: 1.0, description: NULL_RATE }) input_audio_per_million_usd: number | null;
  @ApiProperty({ example: 2.5, description: 'Also the rate of thinking tokens.' }) output_per_million_usd: number;
  @ApiProperty({ type: Number, nullable: true, example: 0.03, description: NULL_RATE }) cached_input_per_million_usd: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 0.1, description: NULL_RATE }) cached_input_audio_per_million_usd: number | null;
}

class LongContextRatesDto extends RatesDto {
  @ApiProperty({
    example: 200000,
    description: 'Above this many prompt tokens (cached included) every class of the call uses these rates.',
  })
  above_prompt_tokens: number;
}

class PricesDto extends RatesDto {
  @ApiPropertyOptional({ type: LongContextRatesDto, nullable: true }) long_context: LongContextRatesDto | null;
}

class PriceChangeDto extends PricesDto {
  @ApiProperty({ format: 'date', example: '2027-01-01', description: 'These rates apply to calls from this UTC date on.' }) from: string;
}

class SourceDto {
  @ApiProperty({ example: 'https://ai.google.dev/gemini-api/docs/pricing' }) url: string;
  @ApiProperty({ type: String, nullable: true, description: "The page's own date, or how it was read." }) snapshot: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'rates', description: '`rates`, `limits` or `lifecycle`.' }) used_for:
    string | null;
}

class ModelDto extends PricesDto {
  @ApiProperty({ example: 'gemini-3.5-flash-lite', description: 'The rates shown are those in force today.' }) model: string;
  @ApiProperty({ type: [PriceChangeDto], description: 'Dated rates, oldest first (past and announced ones).' })
  price_changes: PriceChangeDto[];
  @ApiProperty({ type: Number, nullable: true, example: 1048576, description: 'Most prompt tokens one call may carry (null: not known).' })
  input_token_limit: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 65536 }) output_token_limit: number | null;
  @ApiProperty({
    enum: MODEL_STATUSES,
    description: '`deprecated`: a shutdown date is announced; `retired`: no longer served (kept to price old turns).',
  })
  status: ModelStatus;
  @ApiProperty({ type: String, format: 'date', nullable: true, example: '2026-12-01', description: 'YYYY-MM-DD.' }) shutdown_date:
    string | null;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'The model Google names in its place.' }) replacement:
    string | null;
  @ApiProperty({ type: [SourceDto], description: 'The pages this entry was read from.' }) sources: SourceDto[];
  @ApiProperty({
    type: [String],
    example: [],
    description: 'The fields of this entry that no official Google page confirmed (README, "Models").',
  })
  unconfirmed: string[];
  @ApiProperty({ format: 'date', example: '2026-12-02', description: "When the table's sources were read (YYYY-MM-DD)." }) read: string;
}

@ApiTags('service')
@Controller('models')
export class ModelsController {
  constructor(private readonly models: ModelCatalog) {}

  @Get()
  @ApiOperation({
    summary: 'The model table in force: rates (USD per 1M tokens), token limits, lifecycle, sources',
    description: 'Bundled table, or PRICING_FILE when set. Retired models stay: stored turns are priced with them.',
  })
  @ApiOkResponse({ type: [ModelDto] })
  list(): ModelDto[] {
    const read = this.models.read;
    const today = new Date();
    return this.models.entries().map((entry) => ({ ...entry, ...pricesAt(entry, today), read }));
  }
}
