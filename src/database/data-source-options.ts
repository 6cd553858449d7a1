import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseSettings } from '../config/environment.js';
import { ChatMessageEntity } from '../messages/chat-message.entity.js';
import { ChatSessionEntity } from '../sessions/chat-session.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { InitialSchema1763800000000 } from './migrations/1763800000000-initial-schema.js';
import { AccessAndIdempotency1763900000000 } from './migrations/1763900000000-access-and-idempotency.js';
import { AudioTokens1764000000000 } from './migrations/1764000000000-audio-tokens.js';
import { ApiKeyEntity } from '../auth/api-key.entity.js';
import { IdempotencyRecordEntity } from '../idempotency/idempotency-record.entity.js';
import { DailySpendEntity, SpendEntryEntity } from '../usage/spend-entry.entity.js';
import { SpendLedger1764100000000 } from './migrations/1764100000000-spend-ledger.js';
import { ClusterCoordination1764200000000 } from './migrations/1764200000000-cluster-coordination.js';
import { RateLimitFunction1764300000000 } from './migrations/1764300000000-rate-limit-function.js';
import { LongConversations1764400000000 } from './migrations/1764400000000-long-conversations.js';

export const ENTITIES = [UserEntity, ChatSessionEntity, ChatMessageEntity, ApiKeyEntity, IdempotencyRecordEntity, SpendEntryEntity, DailySpendEntity];
export const MIGRATIONS = [InitialSchema1763800000000, AccessAndIdempotency1763900000000, AudioTokens1764000000000, SpendLedger1764100000000, ClusterCoordination1764200000000, RateLimitFunction1764300000000, LongConversations1764400000000];

/** Options for the app and for the TypeORM CLI alike. Migrations run at start (see migrate.ts), never synchronize. */
export function dataSourceOptions(database: DatabaseSettings, poolSize = 10): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
  };
  if (database.kind === 'postgres') {
    return { ...common, type: 'postgres', url: database.url, poolSize };
  }
  if (database.path !== ':memory:') mkdirSync(dirname(database.path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: database.path,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      if (database.path !== ':memory:') db.pragma('journal_mode = WAL');
      // Billing rows must survive a power cut, not only a crash of the process.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  };
}
