import { Module } from '@nestjs/common';
import { PricingService } from './pricing.service.js';
import { ModelsController } from './models.controller.js';

@Module({
  controllers: [ModelsController],
  providers: [PricingService],
  exports: [PricingService],
})
export class PricingModule {}
