import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import type { DataSourceExtras } from './data-source-options.js';
import { dataSourceOptions } from './data-source-options.js';
import { DatabaseHealth } from './database-health.js';
import { Migrations } from './migrate.js';

/** The data source of DATABASE_URL, mapping the entities it is given; its health and its migrations. */
@Module({})
export class DatabaseModule {
  static forRoot(entities: NonNullable<DataSourceExtras['entities']>): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [appConfig.KEY],
          useFactory: (config: AppConfig) => ({
            ...dataSourceOptions(config.database, { entities, poolSize: config.databasePoolSize }),
            retryAttempts: 0,
          }),
        }),
      ],
      providers: [DatabaseHealth, Migrations],
      exports: [DatabaseHealth, Migrations],
    };
  }
}
