import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { dataSourceOptions } from './data-source-options.js';
import { DatabaseHealth } from './database-health.js';
import { UnitOfWork } from './unit-of-work.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config.database, config.databasePoolSize), retryAttempts: 0 }),
    }),
  ],
  providers: [UnitOfWork, DatabaseHealth],
  exports: [UnitOfWork, DatabaseHealth],
})
export class DatabaseModule {}
