import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { PricingService } from './pricing.service.js';

class LongContextRatesDto {
  @ApiProperty({ example: 200000, description: 'Above this many prompt tokens (cached included) every class of the call uses these rates.' })
  above_prompt_tokens: number;
  @ApiProperty({ example: 2.5 }) input_per_million_usd: number;
  @ApiProperty({ example: 2.5 }) input_audio_per_million_usd: number;
  @ApiProperty({ example: 15 }) output_per_million_usd: number;
  @ApiProperty({ example: 0.25 }) cached_input_per_million_usd: number;
  @ApiProperty({ example: 0.25 }) cached_input_audio_per_million_usd: number;
}

class ModelPriceDto {
  @ApiProperty({ example: 'gemini-2.5-flash' }) model: string;
  @ApiProperty({ example: 0.3 }) input_per_million_usd: number;
  @ApiProperty({ example: 1.0 }) input_audio_per_million_usd: number;
  @ApiProperty({ example: 2.5, description: 'Also the rate of thinking tokens.' }) output_per_million_usd: number;
  @ApiProperty({ example: 0.03 }) cached_input_per_million_usd: number;
  @ApiProperty({ example: 0.1 }) cached_input_audio_per_million_usd: number;
  @ApiPropertyOptional({ type: LongContextRatesDto, nullable: true }) long_context: LongContextRatesDto | null;
}

@ApiTags('service')
@Controller('models')
export class ModelsController {
  constructor(private readonly pricing: PricingService) {}

  @Get()
  @ApiOperation({ summary: 'The price table in force (USD per 1M tokens)', description: 'Bundled table, or PRICING_FILE when set.' })
  @ApiOkResponse({ type: [ModelPriceDto] })
  list(): ModelPriceDto[] {
    return this.pricing.prices();
  }
}
