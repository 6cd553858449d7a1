import { Global, Injectable, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { ApiKeyEntity } from './auth/api-key.entity.js';
import { ApiKeysRepository } from './auth/api-keys.repository.js';
import { CoordinationRepository } from './coordination/coordination.repository.js';
import { DatabaseModule } from './database/database.module.js';
import { UnitOfWork } from './database/unit-of-work.js';
import type { TransactionScope } from './database/unit-of-work.js';
import { IdempotencyRecordEntity } from './idempotency/idempotency-record.entity.js';
import { IdempotencyRepository } from './idempotency/idempotency.repository.js';
import { ChatMessageEntity } from './messages/chat-message.entity.js';
import { MessagesRepository } from './messages/messages.repository.js';
import { ChatSessionEntity } from './sessions/chat-session.entity.js';
import { SessionsRepository } from './sessions/sessions.repository.js';
import { DailySpendEntity, SpendEntryEntity } from './usage/spend-entry.entity.js';
import { UsageRepository } from './usage/usage.repository.js';
import { UserEntity } from './users/user.entity.js';
import { UsersRepository } from './users/users.repository.js';

/**
 * Where the features meet the database: the one list of entities (the schema as TypeORM maps it,
 * checked against the migrations by test/database) and the repositories a write transaction
 * hands to its work.
 */
export const ENTITIES = [UserEntity, ChatSessionEntity, ChatMessageEntity, ApiKeyEntity, IdempotencyRecordEntity, SpendEntryEntity, DailySpendEntity];

/** The repositories of a write transaction, all bound to it. */
export interface Repositories {
  users: UsersRepository;
  sessions: SessionsRepository;
  messages: MessagesRepository;
  apiKeys: ApiKeysRepository;
  idempotency: IdempotencyRepository;
  usage: UsageRepository;
  coordination: CoordinationRepository;
}

/** What a write's work is handed: the transaction's repositories, and what runs once it commits. */
export type Tx = Repositories & TransactionScope;

function repositoriesOf(manager: EntityManager): Repositories {
  return {
    users: new UsersRepository(manager),
    sessions: new SessionsRepository(manager),
    messages: new MessagesRepository(manager),
    apiKeys: new ApiKeysRepository(manager),
    idempotency: new IdempotencyRepository(manager),
    usage: new UsageRepository(manager),
    coordination: new CoordinationRepository(manager),
  };
}

/** Every write: `transactions.commit(({ sessions, messages, … }) => …)`. */
@Injectable()
export class Transactions extends UnitOfWork<Repositories> {
  constructor(dataSource: DataSource) {
    super(dataSource, repositoriesOf);
  }
}

@Global()
@Module({
  imports: [DatabaseModule.forRoot(ENTITIES)],
  providers: [Transactions],
  exports: [Transactions, DatabaseModule],
})
export class PersistenceModule {}
