import { Module } from '@nestjs/common';
import { ModelCatalog } from './model-catalog.js';
import { PricingService } from './pricing.service.js';
import { ModelsController } from './models.controller.js';

@Module({
  controllers: [ModelsController],
  providers: [ModelCatalog, PricingService],
  exports: [ModelCatalog, PricingService],
})
export class PricingModule {}
