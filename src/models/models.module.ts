import { Module } from '@nestjs/common';
import { ModelCatalog } from './model-catalog.js';
import { ModelsController } from './models.controller.js';

/** The model table in force: what every other part asks about a model, and GET /models. */
@Module({
  controllers: [ModelsController],
  providers: [ModelCatalog],
  exports: [ModelCatalog],
})
export class ModelsModule {}
