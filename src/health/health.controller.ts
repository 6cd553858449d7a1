import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeysService } from '../auth/api-keys.service.js';
import { Public } from '../access/access.js';
import { DatabaseHealth } from '../database/database-health.js';
import type { DatabaseState } from '../database/database-health.js';
import { LlmClient } from '../gemini/llm-client.js';
import type { LlmMode } from '../gemini/llm-client.js';
import { ModelNoticeDto } from '../sessions/dto/session.dto.js';
import { ModelNotices } from './model-notices.js';
import { Readiness } from './readiness.js';
import type { Phase } from './readiness.js';

class ReadinessDto {
  @ApiProperty({ enum: ['migrating', 'ready', 'draining'], description: 'Serving only when "ready".' })
  status: Phase;
  @ApiProperty({
    enum: ['up', 'read-only', 'down'],
    description:
      '"up": answers and takes writes; "read-only": answers, but cannot take writes (read-only, disk full); "down": does not answer.',
  })
  database: DatabaseState;
}

class ModelInUseNoticeDto extends ModelNoticeDto {
  @ApiProperty({ example: 'gemini-2.5-flash' }) model: string;
  @ApiProperty({
    enum: ['GEMINI_MODEL', 'sessions'],
    description: '`GEMINI_MODEL`: new sessions get it; `sessions`: stored sessions are set to it.',
  })
  used_by: 'GEMINI_MODEL' | 'sessions';
}

class HealthDto {
  @ApiProperty({ enum: ['ok', 'degraded'] }) status: 'ok' | 'degraded';
  @ApiProperty({ enum: ['up', 'down'] }) database: 'up' | 'down';
  @ApiProperty({ enum: ['emulator', 'configured'], description: '"emulator": offline mode, replies are not from Google.' })
  gemini: LlmMode;
  @ApiProperty({ enum: ['on', 'off'], description: '"off": open mode, ADMIN_API_KEY is not set and no key is asked for.' })
  auth: 'on' | 'off';
  @ApiProperty({
    type: [ModelInUseNoticeDto],
    description: 'Models in use that Google is retiring (within 30 days) or has retired; empty when none.',
  })
  model_notices: ModelInUseNoticeDto[];
}

@ApiTags('service')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    @Inject(LlmClient) private readonly llm: LlmClient,
    private readonly keys: ApiKeysService,
    private readonly readiness: Readiness,
    private readonly modelNotices: ModelNotices,
  ) {}

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness, for load balancers',
    description:
      '200 when this instance serves: its database is migrated, answers and takes a write. 503 while it migrates, while it drains after SIGTERM, when the database does not answer, or when it cannot take writes.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'Not serving: send requests to another instance.' })
  async ready(@Res({ passthrough: true }) response: Response): Promise<ReadinessDto> {
    const status = this.readiness.phase;
    // Writes are probed only once migrated: before, what they would write to may not exist yet.
    const database: DatabaseState = status === 'ready' ? await this.database.state() : (await this.database.ping()) ? 'up' : 'down';
    if (status !== 'ready' || database !== 'up') response.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status, database };
  }

  @Get()
  @ApiOperation({
    summary: 'Liveness and mode',
    description:
      'Answered while migrating or draining and under any Host; says whether replies come from the emulator, whether keys are asked for, and which models in use are going away.',
  })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'The database does not answer.' })
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthDto> {
    const database: HealthDto['database'] = (await this.database.ping()) ? 'up' : 'down';
    if (database === 'down') response.status(HttpStatus.SERVICE_UNAVAILABLE);
    // Liveness must not depend on the sessions' models being readable (migrating, database down).
    const notices = await this.modelNotices.current().catch(() => []);
    return {
      status: database === 'up' ? 'ok' : 'degraded',
      database,
      gemini: this.llm.mode,
      auth: this.keys.enabled ? 'on' : 'off',
      model_notices: notices.map((notice) => ({ model: notice.model, ...ModelNoticeDto.from(notice), used_by: notice.usedBy })),
    };
  }
}
