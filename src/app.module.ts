import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AuthGuard } from './auth/auth.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { JsonBodiesGuard } from './http/json-bodies.guard.js';
import { createValidationPipe } from './common/validation.js';
import { appConfig } from './config/app.config.js';
import { FilesModule } from './files/files.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ModelsModule } from './models/models.module.js';
import { PersistenceModule } from './persistence.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { TurnsModule } from './turns/turns.module.js';
import { UsageModule } from './usage/usage.module.js';
import { UsersModule } from './users/users.module.js';

@Module({
  imports: [
    // main.ts has read .env already; tests get no .env at all.
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] }),
    PersistenceModule,
    AuthModule,
    UsersModule,
    SessionsModule,
    FilesModule,
    TurnsModule,
    UsageModule,
    ModelsModule,
    HealthModule,
    MetricsModule,
  ],
  providers: [
    // As providers, not in main.ts, so every test app gets them too.
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
    { provide: APP_GUARD, useExisting: AuthGuard },
    { provide: APP_GUARD, useClass: JsonBodiesGuard },
  ],
})
export class AppModule {}
