import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import type { DataSourceExtras } from './data-source-options.js';
import { dataSourceOptions } from './data-source-options.js';
import { DatabaseHealth } from './database-health.js';
import { Migrations } from './migrate.js';
import { UnitOfWork } from './unit-of-work.js';
import type { Manager } from './unit-of-work.js';

export interface DatabaseDefinition<R extends object> {
  /** The entities TypeORM maps. */
  entities: NonNullable<DataSourceExtras['entities']>;
  /** The repositories the unit of work binds to each transaction. */
  repositories: (manager: Manager) => R;
}

/**
 * The data source of DATABASE_URL, mapping the entities it is given; its unit of work (the
 * `UnitOfWork` token), binding the repositories it is given; its health and its migrations. It
 * knows no feature: the application's definition is src/persistence.ts.
 */
@Module({})
export class DatabaseModule {
  static forRoot<R extends object>({ entities, repositories }: DatabaseDefinition<R>): DynamicModule {
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
      providers: [
        DatabaseHealth,
        Migrations,
        {
          provide: UnitOfWork,
          inject: [getDataSourceToken()],
          useFactory: (dataSource: DataSource) => new UnitOfWork(dataSource, repositories),
        },
      ],
      exports: [DatabaseHealth, Migrations, UnitOfWork],
    };
  }
}
