import { Controller, Get, Header, Inject, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorBodyDto } from '../common/api-errors.decorator.js';
import type { Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { Public } from '../access/access.js';
import { Unauthorized } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { Metrics } from './metrics.js';

/**
 * GET /metrics: Prometheus's text format, for a scraper. Off unless METRICS_ENABLED (then 404,
 * as any unknown route); behind METRICS_TOKEN when one is set — a scraper holds that token, never
 * an API key, so the route is public to the key check.
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  @Get()
  @Public()
  @ApiOperation({
    summary: 'Counters and histograms of this instance, in Prometheus text format',
    description:
      'Off unless METRICS_ENABLED=true (404 then). When METRICS_TOKEN is set, it is asked for as a bearer token ' +
      "(`Authorization: Bearer <METRICS_TOKEN>`) instead of an API key. Per instance: aggregating is Prometheus's job. " +
      'Turns, paid calls, tokens and spend (nano-dollars) by model, upstream attempts and errors, time to first delta, ' +
      'refusals by code, streams open, database connections, process and event-loop figures.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4.', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ description: 'UNAUTHORIZED: METRICS_TOKEN is set and was not presented.', type: ErrorBodyDto })
  @ApiNotFoundResponse({ description: 'ROUTE_NOT_FOUND: metrics are off (METRICS_ENABLED is not true).', type: ErrorBodyDto })
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() request: Request, @Res() response: Response): Promise<void> {
    if (!this.config.metricsEnabled) throw new NotFoundException();
    const token = this.config.metricsToken;
    if (token !== null && !presents(request.headers.authorization, token)) {
      throw new Unauthorized('GET /metrics needs the METRICS_TOKEN as a bearer token.');
    }
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}

/** `Authorization: Bearer <token>` (the scheme in any case, RFC 7235), compared in constant time. */
function presents(authorization: string | undefined, token: string): boolean {
  const match = /^bearer +(.*)$/i.exec(authorization ?? '');
  const given = Buffer.from(match?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
