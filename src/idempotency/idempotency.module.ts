import { Module } from '@nestjs/common';
import { CoordinationModule } from '../coordination/coordination.module.js';
import { repositoryProvider } from '../database/repository-provider.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IdempotencyService } from './idempotency.service.js';

@Module({
  imports: [CoordinationModule],
  providers: [repositoryProvider(IdempotencyRepository), IdempotencyService],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
