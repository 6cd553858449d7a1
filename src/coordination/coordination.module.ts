import { Global, Module } from '@nestjs/common';
import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { BudgetReservations, DatabaseBudgetReservations, InMemoryBudgetReservations } from './budget-reservations.js';
import { DatabaseRateLimiter, InMemoryRateLimiter, RateLimiter } from './rate-limiter.js';
import { Heartbeat } from './heartbeat.js';
import { InProcessSessionLine, LeasedSessionLine, SessionLine } from './session-line.js';

const onPostgres = (config: AppConfig) => config.database.kind === 'postgres';

/**
 * The one place that decides where coordination lives. PostgreSQL (any number of instances):
 * in the database — session leases, rate-limit windows and budget reservations, kept alive by
 * this instance's heartbeat. SQLite (one process by nature): in memory, with the same
 * observable behaviour. Idempotency claims (renewed by the heartbeat) and API keys live in the
 * database either way.
 */
const providers: Provider[] = [
  Heartbeat,
  {
    provide: SessionLine,
    inject: [appConfig.KEY, DataSource, Heartbeat],
    useFactory: (config: AppConfig, dataSource: DataSource, instance: Heartbeat) =>
      onPostgres(config) ? new LeasedSessionLine(dataSource, instance) : new InProcessSessionLine(),
  },
  {
    provide: RateLimiter,
    inject: [appConfig.KEY, DataSource],
    useFactory: (config: AppConfig, dataSource: DataSource) =>
      onPostgres(config) ? new DatabaseRateLimiter(dataSource, config.rateLimitPerMinute) : new InMemoryRateLimiter(config.rateLimitPerMinute),
  },
  {
    provide: BudgetReservations,
    inject: [appConfig.KEY, DataSource, Heartbeat],
    useFactory: (config: AppConfig, dataSource: DataSource, instance: Heartbeat) =>
      onPostgres(config) ? new DatabaseBudgetReservations(dataSource, instance) : new InMemoryBudgetReservations(dataSource),
  },
];

@Global()
@Module({ providers, exports: [Heartbeat, SessionLine, RateLimiter, BudgetReservations] })
export class CoordinationModule {}
