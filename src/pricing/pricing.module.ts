import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module.js';
import { PricingService } from './pricing.service.js';

@Module({
  imports: [ModelsModule],
  providers: [PricingService],
  exports: [PricingService],
})
export class PricingModule {}
