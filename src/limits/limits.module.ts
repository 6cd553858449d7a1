import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { UsersModule } from '../users/users.module.js';
import { BudgetService } from './budget.service.js';
import { RateLimiter } from './rate-limiter.js';

@Module({
  imports: [UsersModule, MessagesModule, PricingModule],
  providers: [BudgetService, RateLimiter],
  exports: [BudgetService, RateLimiter],
})
export class LimitsModule {}
