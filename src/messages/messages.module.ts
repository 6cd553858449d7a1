import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { MessagesRepository } from './messages.repository.js';
import { ConversationCache } from './conversation-cache.js';

@Module({
  providers: [
    repositoryProvider(MessagesRepository),
    { provide: ConversationCache, inject: [MessagesRepository], useFactory: (messages: MessagesRepository) => new ConversationCache(messages) },
  ],
  exports: [MessagesRepository, ConversationCache],
})
export class MessagesModule {}
