import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { UsersModule } from '../users/users.module.js';
import { UsageController } from './usage.controller.js';
import { UsageRepository } from './usage.repository.js';
import { UsageService } from './usage.service.js';

/** The one owner of usage and spend: the usage report, and what budgets count. */
@Module({
  imports: [UsersModule],
  controllers: [UsageController],
  providers: [repositoryProvider(UsageRepository), UsageService],
  exports: [UsageService],
})
export class UsageModule {}
