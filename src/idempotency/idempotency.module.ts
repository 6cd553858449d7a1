import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IdempotencyService } from './idempotency.service.js';

@Module({
  providers: [repositoryProvider(IdempotencyRepository), IdempotencyService],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
