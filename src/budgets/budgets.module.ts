import { Module } from '@nestjs/common';
import { PricingModule } from '../pricing/pricing.module.js';
import { UsersModule } from '../users/users.module.js';
import { BudgetService } from './budget.service.js';

@Module({
  imports: [UsersModule, PricingModule],
  providers: [BudgetService],
  exports: [BudgetService],
})
export class BudgetsModule {}
