import { Module } from '@nestjs/common';
import { CoordinationModule } from '../coordination/coordination.module.js';
import { repositoryProvider } from '../database/repository-provider.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { ModelsModule } from '../models/models.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { UsersModule } from '../users/users.module.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [MessagesModule, UsersModule, IdempotencyModule, ModelsModule, CoordinationModule, StreamsModule],
  controllers: [SessionsController],
  providers: [repositoryProvider(SessionsRepository), SessionsService],
  exports: [SessionsService],
})
export class SessionsModule {}
