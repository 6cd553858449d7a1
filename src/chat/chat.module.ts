import { Module } from '@nestjs/common';
import { GeminiModule } from '../gemini/gemini.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { LimitsModule } from '../limits/limits.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ChatController } from './chat.controller.js';
import { SessionMessagesController } from './session-messages.controller.js';
import { TurnService } from './turn.service.js';
import { UserDataController } from './user-data.controller.js';
import { UsersModule } from '../users/users.module.js';

/** Turns, and routes over a user's data: where users, sessions, messages, Gemini and pricing meet. */
@Module({
  imports: [UsersModule, SessionsModule, MessagesModule, GeminiModule, PricingModule, IdempotencyModule, LimitsModule],
  controllers: [SessionMessagesController, ChatController, UserDataController],
  providers: [TurnService],
})
export class ChatModule {}
