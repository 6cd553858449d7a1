import { Module } from '@nestjs/common';
import { PricingModule } from '../pricing/pricing.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { UsersModule } from '../users/users.module.js';
import { BudgetService } from './budget.service.js';
import { RateLimiter } from './rate-limiter.js';

@Module({
  imports: [UsersModule, UsageModule, PricingModule],
  providers: [BudgetService, RateLimiter],
  exports: [BudgetService, RateLimiter],
})
export class LimitsModule {}
