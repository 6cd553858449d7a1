import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { ConversationCache } from './conversation-cache.js';
import { MessagesRepository } from './messages.repository.js';
import { MessagesService } from './messages.service.js';

@Module({
  providers: [
    repositoryProvider(MessagesRepository),
    {
      provide: ConversationCache,
      inject: [MessagesRepository],
      useFactory: (messages: MessagesRepository) => new ConversationCache(messages),
    },
    MessagesService,
  ],
  exports: [ConversationCache, MessagesService],
})
export class MessagesModule {}
