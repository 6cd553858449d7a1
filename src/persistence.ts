import { Global, Module } from '@nestjs/common';
import { ApiKeyEntity } from './auth/api-key.entity.js';
import { ApiKeysRepository } from './auth/api-keys.repository.js';
import { CoordinationRepository } from './coordination/coordination.repository.js';
import { DatabaseModule } from './database/database.module.js';
import { FileBlobsRepository } from './files/file-blobs.repository.js';
import { FileEntity, GeminiFileEntity } from './files/file.entity.js';
import type { FileStore } from './files/file-store.js';
import { FilesRepository } from './files/files.repository.js';
import type { Manager } from './database/unit-of-work.js';
import { IdempotencyRecordEntity } from './idempotency/idempotency-record.entity.js';
import { IdempotencyRepository } from './idempotency/idempotency.repository.js';
import { ChatMessageEntity } from './messages/chat-message.entity.js';
import { MessagesRepository } from './messages/messages.repository.js';
import { ChatSessionEntity } from './sessions/chat-session.entity.js';
import { SessionsRepository } from './sessions/sessions.repository.js';
import { TurnEventEntity, TurnStreamEntity } from './streams/turn-stream.entity.js';
import { TurnStreamsRepository } from './streams/turn-streams.repository.js';
import { DailySpendEntity, SpendEntryEntity } from './usage/spend-entry.entity.js';
import { UsageRepository } from './usage/usage.repository.js';
import { UserEntity } from './users/user.entity.js';
import { UsersRepository } from './users/users.repository.js';

/**
 * Where the features meet the database, at the top beside app.module.ts: the one list of
 * entities (the schema as TypeORM maps it, checked against the migrations by test/database) and
 * the repositories a write transaction hands to its work. Only the app module imports it.
 */
export const ENTITIES = [
  UserEntity,
  ChatSessionEntity,
  ChatMessageEntity,
  ApiKeyEntity,
  IdempotencyRecordEntity,
  SpendEntryEntity,
  DailySpendEntity,
  FileEntity,
  GeminiFileEntity,
  TurnStreamEntity,
  TurnEventEntity,
];

/** The repositories of a write transaction, all bound to it. */
export interface Repositories {
  users: UsersRepository;
  sessions: SessionsRepository;
  messages: MessagesRepository;
  apiKeys: ApiKeysRepository;
  idempotency: IdempotencyRepository;
  usage: UsageRepository;
  coordination: CoordinationRepository;
  files: FilesRepository;
  /** The bytes of files: the database's FileStore, bound to the transaction like the rest. */
  fileStore: FileStore;
  turnStreams: TurnStreamsRepository;
}

function repositoriesOf(manager: Manager): Repositories {
  return {
    users: new UsersRepository(manager),
    sessions: new SessionsRepository(manager),
    messages: new MessagesRepository(manager),
    apiKeys: new ApiKeysRepository(manager),
    idempotency: new IdempotencyRepository(manager),
    usage: new UsageRepository(manager),
    coordination: new CoordinationRepository(manager),
    files: new FilesRepository(manager),
    fileStore: new FileBlobsRepository(manager),
    turnStreams: new TurnStreamsRepository(manager),
  };
}

/**
 * The database of the app: its entities, and every repository bound to each transaction of the
 * `UnitOfWork` services inject (each typed with the repositories it writes through).
 */
@Global()
@Module({
  imports: [DatabaseModule.forRoot({ entities: ENTITIES, repositories: repositoriesOf })],
  exports: [DatabaseModule],
})
export class PersistenceModule {}
