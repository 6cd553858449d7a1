import { Module } from '@nestjs/common';
import { CoordinationModule } from '../coordination/coordination.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { BudgetService } from './budget.service.js';

/** Daily spend limits: what a turn may reserve before it calls Gemini. */
@Module({
  imports: [CoordinationModule, PricingModule],
  providers: [BudgetService],
  exports: [BudgetService],
})
export class BudgetsModule {}
