import { Module } from '@nestjs/common';
import type { Provider } from '@nestjs/common';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { repositoryProvider } from '../database/repository-provider.js';
import { BudgetReservations } from './budget-reservations.js';
import { CoordinationRepository } from './coordination.repository.js';
import { Heartbeat } from './heartbeat.js';
import { DatabaseRateLimiter, InMemoryRateLimiter, RateLimiter } from './rate-limiter.js';
import { InProcessSessionLine, LeasedSessionLine, SessionLine } from './session-line.js';

const onPostgres = (config: AppConfig) => config.database.kind === 'postgres';

/**
 * The one place that decides where coordination lives. PostgreSQL (any number of instances):
 * in the database — session leases and rate-limit windows, kept alive by this instance's
 * heartbeat. SQLite (one process by nature): in memory, with the same observable behaviour.
 * Budget reservations (written before every call to Gemini), idempotency claims (both renewed
 * by the heartbeat) and API keys live in the database either way.
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
      onPostgres(config)
        ? new DatabaseRateLimiter(coordination, config.rateLimitPerMinute)
        : new InMemoryRateLimiter(config.rateLimitPerMinute),
  },
  BudgetReservations,
];

@Module({ providers, exports: [Heartbeat, SessionLine, RateLimiter, BudgetReservations] })
export class CoordinationModule {}
