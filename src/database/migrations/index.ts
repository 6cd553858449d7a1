import { InitialSchema1763800000000 } from './1763800000000-initial-schema.js';
import { AccessAndIdempotency1763900000000 } from './1763900000000-access-and-idempotency.js';
import { AudioTokens1764000000000 } from './1764000000000-audio-tokens.js';
import { SpendLedger1764100000000 } from './1764100000000-spend-ledger.js';
import { ClusterCoordination1764200000000 } from './1764200000000-cluster-coordination.js';
import { RateLimitFunction1764300000000 } from './1764300000000-rate-limit-function.js';
import { LongConversations1764400000000 } from './1764400000000-long-conversations.js';
import { HealthProbe1764450000000 } from './1764450000000-health-probe.js';
import { Files1764500000000 } from './1764500000000-files.js';
import { ModalityTokens1764560000000 } from './1764560000000-modality-tokens.js';
import { Attachments1764650000000 } from './1764650000000-attachments.js';
import { TurnStreams1764750000000 } from './1764750000000-turn-streams.js';

/** Every migration, oldest first: the schema. Entities describe it for TypeORM and are checked against it. */
export const MIGRATIONS = [
  InitialSchema1763800000000,
  AccessAndIdempotency1763900000000,
  AudioTokens1764000000000,
  SpendLedger1764100000000,
  ClusterCoordination1764200000000,
  RateLimitFunction1764300000000,
  LongConversations1764400000000,
  HealthProbe1764450000000,
  Files1764500000000,
  ModalityTokens1764560000000,
  Attachments1764650000000,
  TurnStreams1764750000000,
];
