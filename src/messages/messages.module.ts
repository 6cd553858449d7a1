import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { MessagesRepository } from './messages.repository.js';
import { SessionMessages } from './session-messages.js';

@Module({
  providers: [
    repositoryProvider(MessagesRepository),
    { provide: SessionMessages, inject: [MessagesRepository], useFactory: (messages: MessagesRepository) => new SessionMessages(messages) },
  ],
  exports: [MessagesRepository, SessionMessages],
})
export class MessagesModule {}
