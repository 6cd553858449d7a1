import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { MessagesRepository } from './messages.repository.js';

@Module({
  providers: [repositoryProvider(MessagesRepository)],
  exports: [MessagesRepository],
})
export class MessagesModule {}
