import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { UsersModule } from '../users/users.module.js';
import { UsageController } from './usage.controller.js';
import { UsageRepository } from './usage.repository.js';
import { UsageService } from './usage.service.js';

/** The usage report: what a user's turns used and cost, from the spend ledger. */
@Module({
  imports: [UsersModule],
  controllers: [UsageController],
  providers: [repositoryProvider(UsageRepository), UsageService],
})
export class UsageModule {}
