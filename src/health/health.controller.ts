import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeysService } from '../auth/api-keys.service.js';
import { Public } from '../auth/access.js';
import { DatabaseHealth } from '../database/database-health.js';
import { LlmClient } from '../gemini/llm-client.js';
import type { LlmMode } from '../gemini/llm-client.js';

class HealthDto {
  @ApiProperty({ enum: ['ok', 'degraded'] }) status: 'ok' | 'degraded';
  @ApiProperty({ enum: ['up', 'down'] }) database: 'up' | 'down';
  @ApiProperty({ enum: ['emulator', 'configured'], description: '"emulator": offline mode, replies are not from Google.' })
  gemini: LlmMode;
  @ApiProperty({ enum: ['on', 'off'], description: '"off": open mode, ADMIN_API_KEY is not set and no key is asked for.' })
  auth: 'on' | 'off';
}

@ApiTags('service')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    @Inject(LlmClient) private readonly llm: LlmClient,
    private readonly keys: ApiKeysService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness and mode' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'The database does not answer.' })
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthDto> {
    const database: HealthDto['database'] = (await this.database.ping()) ? 'up' : 'down';
    if (database === 'down') response.status(HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: database === 'up' ? 'ok' : 'degraded',
      database,
      gemini: this.llm.mode,
      auth: this.keys.enabled ? 'on' : 'off',
    };
  }
}
