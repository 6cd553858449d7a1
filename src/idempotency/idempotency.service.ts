import { Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DomainError, ErrorCode, IdempotencyInProgress, IdempotencyKeyReused, statusFor } from '../common/errors.js';
import { Heartbeat } from '../coordination/heartbeat.js';
import { NOTHING_HELD } from '../coordination/hold.js';
import type { Hold } from '../coordination/hold.js';
import { now } from '../core/clock.js';
import { isUniqueViolation } from '../database/errors.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { Transaction } from '../database/unit-of-work.js';
import type { CoordinationRepository } from '../coordination/coordination.repository.js';
import type { IdempotentRequest } from './idempotency-key.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import type { IdempotencyRecord, RecordKey, RecordOwner } from './idempotency.repository.js';

const RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * What claiming a key gives: the first request's result again (`replayed`), or the claim this
 * request holds while it runs — completed with its result in the transaction that stores what
 * it did, so the two commit together (a crash between them cannot make a retry run, and pay
 * for, the request again); or given up when it fails.
 */
export type KeyClaim<T> = { replayed: true; value: T } | { replayed: false; hold: Hold<ClaimTx, T> };

/** The transaction a claim is completed in: any that has the idempotency records. */
export type ClaimTx = Transaction<{ idempotency: IdempotencyRepository }>;

/** A remembered client error, as stored. */
interface StoredError {
  code: ErrorCode;
  message: string;
  /** The rest of its body (what a refused paid call cost); absent in records written before it existed. */
  details?: Record<string, unknown>;
}

/**
 * Idempotency-Key for the requests that create or spend: the first request runs; the same key
 * and request within 24 h gets the first outcome again — its result, or the client error it
 * ended with — without running again; another request with the key is 422; while the first
 * still runs, 409. Keys are scoped to the caller.
 *
 * Results are plain data (JSON), so a replay is rendered by the same code as the first answer.
 * Failures upstream or on our side (5xx) and refusals that may pass later (409, 429) are
 * forgotten, so a retry runs again.
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger(IdempotencyService.name);

  constructor(
    private readonly records: IdempotencyRepository,
    private readonly unitOfWork: UnitOfWork<{ idempotency: IdempotencyRepository; coordination: CoordinationRepository }>,
    private readonly heartbeat: Heartbeat,
  ) {}

  /**
   * Claims the request's key, or answers the first request's outcome (its result; its client
   * error thrown again). Without a key, nothing is claimed. `fingerprint` says what the request
   * asks (another one with the key is 422); `owner` is whose content the result holds, so that it
   * goes when they are deleted.
   */
  async claim<T>(scope: string, request: IdempotentRequest, fingerprint: unknown, owner: RecordOwner): Promise<KeyClaim<T>> {
    if (request.key === undefined) return { replayed: false, hold: NOTHING_HELD };
    const key: RecordKey = { scope, idempotencyKey: request.key };
    const requestHash = createHash('sha256').update(JSON.stringify(fingerprint)).digest('hex');
    const holder = randomUUID();
    // Running, the claim is renewed by this instance's heartbeat; it is abandoned only when that stops.
    const forget = this.heartbeat.keepAlive('idempotency_records', holder);
    let existing: IdempotencyRecord | null;
    try {
      existing = await this.claimOrFind(key, requestHash, now(), holder);
    } catch (error) {
      forget();
      throw error;
    }
    if (existing) {
      forget();
      return { replayed: true, value: replay<T>(existing, requestHash, request) };
    }
    let settled = false;
    return {
      replayed: false,
      hold: {
        settleIn: async ({ idempotency, afterCommit }, value) => {
          await idempotency.complete(key, holder, null, JSON.stringify(value), owner);
          afterCommit(() => {
            settled = true;
            forget();
          });
        },
        abandon: async (error) => {
          if (settled) return;
          try {
            await this.settleFailure(key, holder, error);
          } catch (failure) {
            // The claim stays running until its instance stops renewing it (at once: forgotten below), then expires.
            this.logger.warn(`could not settle an Idempotency-Key claim after a failure (it expires): ${String(failure)}`);
          } finally {
            forget();
          }
        },
      },
    };
  }

  /**
   * Claims the key inside a write transaction, so of two racing requests only one runs; or
   * returns the record that holds it. On PostgreSQL two racing claims can both find no record;
   * the second insert then fails on the primary key and the winner's record is what counts.
   */
  private async claimOrFind(key: RecordKey, requestHash: string, at: string, holder: string): Promise<IdempotencyRecord | null> {
    try {
      return await this.unitOfWork.commit(async ({ idempotency, coordination }) => {
        const record = await idempotency.find(key);
        const now = await coordination.now();
        if (record && !reusable(record, at, now)) return record;
        if (record) await idempotency.delete(key);
        await idempotency.insertRunning(key, requestHash, at, holder, now + this.heartbeat.leaseTtlMs);
        return null;
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const winner = await this.records.find(key);
      if (!winner) throw error;
      return winner;
    }
  }

  /** A client error that would end the same way again is remembered; anything else is forgotten, so a retry runs. */
  private async settleFailure(key: RecordKey, holder: string, error: unknown): Promise<void> {
    const status: number = error instanceof DomainError ? statusFor(error.code) : 500;
    const remembered = status < 500 && status !== 409 && status !== 429;
    await this.unitOfWork.commit(({ idempotency }) => {
      if (!remembered) return idempotency.release(key, holder);
      const { code, message, details } = error as DomainError;
      const stored: StoredError = { code, message, details };
      return idempotency.complete(key, holder, status, JSON.stringify(stored));
    });
  }
}

/**
 * Older than 24 h; or left `running` by an instance that stopped renewing it (it died), or by
 * a release before claims were renewed (no expiry).
 */
function reusable(record: IdempotencyRecord, at: string, now: number): boolean {
  if (Date.parse(at) - Date.parse(record.createdAt) > RETENTION_MS) return true;
  return record.state === 'running' && (record.expiresAt === null || record.expiresAt <= now);
}

/** The first request's outcome: its result, or its client error thrown again; the answer is marked a replay. */
function replay<T>(record: IdempotencyRecord, requestHash: string, request: IdempotentRequest): T {
  if (record.requestHash !== requestHash) throw new IdempotencyKeyReused();
  if (record.state === 'running') throw new IdempotencyInProgress();
  request.markReplayed();
  const outcome: unknown = JSON.parse(record.responseBody!);
  if (record.responseStatus === null) return outcome as T;
  const { code, message, details = {} } = outcome as StoredError;
  throw new DomainError(code, message).with(details);
}
