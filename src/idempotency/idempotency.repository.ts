import type { EntityManager } from 'typeorm';
import { IdempotencyRecordEntity } from './idempotency-record.entity.js';
import type { IdempotencyState } from './idempotency-record.entity.js';

export interface IdempotencyRecord {
  scope: string;
  idempotencyKey: string;
  requestHash: string;
  state: IdempotencyState;
  /** Null for a result; the HTTP status of a remembered client error. */
  responseStatus: number | null;
  /** The outcome as JSON (see IdempotencyService). */
  responseBody: string | null;
  createdAt: string;
  /** While running: when the claim is abandoned unless its instance renews it (epoch ms, database clock). */
  expiresAt: number | null;
}

/** Whose content a result holds. */
export interface RecordOwner {
  userId: string;
  sessionId?: string;
}

export interface RecordKey {
  scope: string;
  idempotencyKey: string;
}

export class IdempotencyRepository {
  constructor(private readonly manager: EntityManager) {}

  private get records() {
    return this.manager.getRepository(IdempotencyRecordEntity);
  }

  find(key: RecordKey): Promise<IdempotencyRecord | null> {
    return this.records.findOneBy(key);
  }

  /**
   * Claims the key for `holder`, until `expiresAt` unless its instance renews it. Throws a
   * unique violation when another request claimed it first (see database/errors.ts).
   */
  async insertRunning(key: RecordKey, requestHash: string, createdAt: string, holder: string, expiresAt: number): Promise<void> {
    await this.records.insert({
      ...key,
      requestHash,
      state: 'running',
      responseStatus: null,
      responseBody: null,
      createdAt,
      holder,
      expiresAt,
    });
  }

  /** Settles `holder`'s running claim; a claim taken over since is left alone. */
  async complete(key: RecordKey, holder: string, responseStatus: number | null, responseBody: string, owner?: RecordOwner): Promise<void> {
    await this.records.update(
      { ...key, holder, state: 'running' },
      { state: 'done', responseStatus, responseBody, userId: owner?.userId ?? null, sessionId: owner?.sessionId ?? null },
    );
  }

  /** Remembered results holding a deleted session's content go with it. */
  async deleteForSession(sessionId: string): Promise<void> {
    await this.records.delete({ sessionId });
  }

  /** Remembered results holding a deleted user's content go with them. */
  async deleteForUser(userId: string): Promise<void> {
    await this.records.delete({ userId });
  }

  /** Deletes the record (expired or abandoned) to claim the key anew. */
  async delete(key: RecordKey): Promise<void> {
    await this.records.delete(key);
  }

  /**
   * Gives up `holder`'s claim while it is still running: a claim completed meanwhile (its
   * outcome committed with the work) or taken over since is left alone.
   */
  async release(key: RecordKey, holder: string): Promise<void> {
    await this.records.delete({ ...key, holder, state: 'running' });
  }
}
