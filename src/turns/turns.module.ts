import { Module } from '@nestjs/common';
import { GeminiModule } from '../gemini/gemini.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { ModelsModule } from '../models/models.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UsersModule } from '../users/users.module.js';
import { ChatController } from './chat.controller.js';
import { TurnsController } from './turns.controller.js';
import { EstimateService } from './estimate.service.js';
import { ContextPlanner } from './context-planner.js';
import { TurnService } from './turn.service.js';

/** Turns: where sessions, messages, Gemini, pricing and limits meet. */
@Module({
  imports: [SessionsModule, MessagesModule, UsersModule, GeminiModule, ModelsModule, PricingModule, IdempotencyModule, BudgetsModule],
  controllers: [TurnsController, ChatController],
  providers: [TurnService, ContextPlanner, EstimateService],
  exports: [TurnService],
})
export class TurnsModule {}
