import { Module } from '@nestjs/common';
import { GeminiModule } from '../gemini/gemini.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { LimitsModule } from '../limits/limits.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UsersModule } from '../users/users.module.js';
import { ChatController } from './chat.controller.js';
import { SessionMessagesController } from './session-messages.controller.js';
import { EstimateService } from './estimate.service.js';
import { TurnContexts } from './turn-context.js';
import { TurnService } from './turn.service.js';

/** Turns: where sessions, messages, Gemini, pricing and limits meet. */
@Module({
  imports: [SessionsModule, MessagesModule, UsersModule, GeminiModule, PricingModule, IdempotencyModule, LimitsModule],
  controllers: [SessionMessagesController, ChatController],
  providers: [TurnService, TurnContexts, EstimateService],
  exports: [TurnService],
})
export class ChatModule {}
