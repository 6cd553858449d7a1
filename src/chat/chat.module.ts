import { Module } from '@nestjs/common';
import { GeminiModule } from '../gemini/gemini.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { PricingModule } from '../pricing/pricing.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ChatController } from './chat.controller.js';
import { SessionMessagesController } from './session-messages.controller.js';
import { TurnService } from './turn.service.js';

/** Turns: where sessions, messages, Gemini and pricing meet. */
@Module({
  imports: [SessionsModule, MessagesModule, GeminiModule, PricingModule],
  controllers: [SessionMessagesController, ChatController],
  providers: [TurnService],
})
export class ChatModule {}
