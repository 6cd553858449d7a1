import { Module } from '@nestjs/common';
import type { Provider } from '@nestjs/common';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { repositoryProvider } from '../database/repository-provider.js';
import { BudgetReservations } from './budget-reservations.js';
import { CoordinationRepository } from './coordination.repository.js';
import { Heartbeat } from './heartbeat.js';
import { DatabaseRateLimiter, ESTIMATE_RATE_LIMITER, ESTIMATES, InMemoryRateLimiter, RateLimiter, TURNS } from './rate-limiter.js';
import type { CountedCalls } from './rate-limiter.js';
import { InProcessSessionLine, LeasedSessionLine, SessionLine } from './session-line.js';

const onPostgres = (config: AppConfig) => config.database.kind === 'postgres';

/** A per-caller window of `limit` calls a minute: in the database on PostgreSQL, in memory on SQLite. */
const rateLimiter = (config: AppConfig, coordination: CoordinationRepository, limit: number, counts: CountedCalls): RateLimiter =>
  onPostgres(config) ? new DatabaseRateLimiter(coordination, limit, counts) : new InMemoryRateLimiter(limit, counts);

/**
 * The one place that decides where coordination lives. PostgreSQL (any number of instances):
 * in the database — session leases and rate-limit windows (turns, estimates), kept alive by
 * this instance's heartbeat. SQLite (one process by nature): in memory, with the same
 * observable behaviour. Budget reservations (written before every call to Gemini),
 * idempotency claims (both renewed by the heartbeat) and API keys live in the database either way.
 */
const providers: Provider[] = [
  repositoryProvider(CoordinationRepository),
  Heartbeat,
  {
    provide: SessionLine,
    inject: [appConfig.KEY, CoordinationRepository, Heartbeat],
    useFactory: (config: AppConfig, coordination: CoordinationRepository, heartbeat: Heartbeat) =>
      onPostgres(config) ? new LeasedSessionLine(coordination, heartbeat) : new InProcessSessionLine(),
  },
  {
    provide: RateLimiter,
    inject: [appConfig.KEY, CoordinationRepository],
    useFactory: (config: AppConfig, coordination: CoordinationRepository) =>
      rateLimiter(config, coordination, config.rateLimitPerMinute, TURNS),
  },
  {
    // The same machinery, a window of its own: estimates never use up turns, nor turns estimates.
    provide: ESTIMATE_RATE_LIMITER,
    inject: [appConfig.KEY, CoordinationRepository],
    useFactory: (config: AppConfig, coordination: CoordinationRepository) =>
      rateLimiter(config, coordination, config.estimatesPerMinute, ESTIMATES),
  },
  BudgetReservations,
];

@Module({ providers, exports: [Heartbeat, SessionLine, RateLimiter, ESTIMATE_RATE_LIMITER, BudgetReservations] })
export class CoordinationModule {}
