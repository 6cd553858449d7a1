import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DomainError, ErrorCode, IdempotencyInProgress, IdempotencyKeyReused, statusFor, ValidationFailed } from '../common/errors.js';
import { now } from '../core/clock.js';
import { isUniqueViolation } from '../database/errors.js';
import { Heartbeat } from '../coordination/heartbeat.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { Repositories } from '../database/unit-of-work.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import type { IdempotencyRecord, RecordKey, RecordOwner } from './idempotency.repository.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * The claim of a running request, handed to its work: the work stores the outcome in its own
 * unit of work, so what the request did and the record of it commit together — a crash between
 * the two cannot make a retry run (and pay for) the request again.
 */
export interface Claim<T> {
  /** `owner`: whose content the result holds, so that it goes when they are deleted. */
  completeWith(repositories: Repositories, value: T, owner?: RecordOwner): Promise<void>;
}

const NO_CLAIM: Claim<never> = Object.freeze({ completeWith: async () => undefined });

/** What `run` answers: the work's result, fresh or replayed from the first request. */
export interface Replayable<T> {
  value: T;
  replayed: boolean;
}

/** A remembered client error, as stored. */
interface StoredError {
  code: ErrorCode;
  message: string;
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
  constructor(
    private readonly records: IdempotencyRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly instance: Heartbeat,
  ) {}

  /**
   * Runs `work` once per (scope, key); without a key it simply runs. Work that writes should
   * complete its claim in its own unit of work (`claim.completeWith`); otherwise the result is
   * stored after it.
   */
  async run<T>(scope: string, idempotencyKey: string | undefined, request: unknown, work: (claim: Claim<T>) => Promise<T>): Promise<Replayable<T>> {
    if (idempotencyKey === undefined) return { value: await work(NO_CLAIM), replayed: false };
    if (!KEY_PATTERN.test(idempotencyKey)) throw new ValidationFailed('Idempotency-Key: must be 1–255 visible ASCII characters');
    const key: RecordKey = { scope, idempotencyKey };
    const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const claimedAt = now();
    const holder = randomUUID();
    // Running, the claim is renewed by this instance's heartbeat; it is abandoned only when that stops.
    const unhold = this.instance.hold('idempotency_records', holder);
    const existing = await this.claimOrFind(key, requestHash, claimedAt, holder).catch((error: unknown) => {
      unhold();
      throw error;
    });
    if (existing) {
      unhold();
      return { value: replay<T>(existing, requestHash), replayed: true };
    }
    let completed = false;
    const claim: Claim<T> = {
      completeWith: async ({ idempotency }, value, owner) => {
        await idempotency.complete(key, holder, null, JSON.stringify(value), owner);
        completed = true; // counts once that unit of work commits: if it does not, the work throws
      },
    };
    try {
      let value: T;
      try {
        value = await work(claim);
      } catch (error) {
        await this.settleFailure(key, holder, error);
        throw error;
      }
      if (!completed) await this.unitOfWork.run((repositories) => claim.completeWith(repositories, value));
      return { value, replayed: false };
    } finally {
      unhold();
    }
  }

  /**
   * Claims the key inside a write transaction, so of two racing requests only one runs; or
   * returns the record that holds it. On PostgreSQL two racing claims can both find no record;
   * the second insert then fails on the primary key and the winner's record is what counts.
   */
  private async claimOrFind(key: RecordKey, requestHash: string, at: string, holder: string): Promise<IdempotencyRecord | null> {
    try {
      return await this.unitOfWork.run(async ({ idempotency, coordination }) => {
        const record = await idempotency.find(key);
        const now = await coordination.now();
        if (record && !reusable(record, at, now)) return record;
        if (record) await idempotency.delete(key);
        await idempotency.insertRunning(key, requestHash, at, holder, now + this.instance.leaseTtlMs);
        return null;
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const winner = await this.records.find(key);
      if (!winner) throw error;
      return winner;
    }
  }


  private async settleFailure(key: RecordKey, holder: string, error: unknown): Promise<void> {
    const status = error instanceof DomainError ? statusFor(error.code) : 500;
    const remembered = status < 500 && status !== 409 && status !== 429;
    await this.unitOfWork.run(({ idempotency }) => {
      if (!remembered) return idempotency.release(key, holder);
      const stored: StoredError = { code: (error as DomainError).code, message: (error as DomainError).message };
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

/** The first request's outcome: its result, or its client error thrown again. */
function replay<T>(record: IdempotencyRecord, requestHash: string): T {
  if (record.requestHash !== requestHash) throw new IdempotencyKeyReused();
  if (record.state === 'running') throw new IdempotencyInProgress();
  const outcome: unknown = JSON.parse(record.responseBody!);
  if (record.responseStatus === null) return outcome as T;
  const { code, message } = outcome as StoredError;
  throw new DomainError(code, message, undefined, { replayed: true });
}
