import { Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { CoordinationModule } from '../coordination/coordination.module.js';
import { FilesModule } from '../files/files.module.js';
import { GeminiModule } from '../gemini/gemini.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ModelsModule } from '../models/models.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { ChatController } from './chat.controller.js';
import { ContextPlanner } from './context-planner.js';
import { EstimateService } from './estimate.service.js';
import { TurnService } from './turn.service.js';
import { TurnsController } from './turns.controller.js';

/** Turns: where sessions, messages, Gemini, pricing, budgets and coordination meet. */
@Module({
  imports: [
    SessionsModule,
    MessagesModule,
    GeminiModule,
    ModelsModule,
    PricingModule,
    IdempotencyModule,
    BudgetsModule,
    CoordinationModule,
    MetricsModule,
    FilesModule,
    StreamsModule,
  ],
  controllers: [TurnsController, ChatController],
  providers: [TurnService, ContextPlanner, EstimateService],
  exports: [TurnService],
})
export class TurnsModule {}
