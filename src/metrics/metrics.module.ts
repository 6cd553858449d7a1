import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module.js';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.js';

/** Metrics: what every room that counts something records into, and GET /metrics. */
@Module({
  imports: [ModelsModule],
  controllers: [MetricsController],
  providers: [Metrics],
  exports: [Metrics],
})
export class MetricsModule {}
