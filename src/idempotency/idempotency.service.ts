import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { Repository } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { IdempotencyInProgress, IdempotencyKeyReused, ValidationFailed } from '../common/errors.js';
import { toErrorBody } from '../common/http-exception.filter.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { isUniqueViolation } from '../database/errors.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { IdempotencyRecordEntity } from './idempotency-record.entity.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const RETENTION_MS = 24 * 60 * 60 * 1000;

export interface StoredAnswer {
  status: number;
  body: unknown;
}

/** A claimed key: the request runs, then its answer is kept — or forgotten if it failed upstream. */
export interface IdempotencyClaim {
  complete(answer: StoredAnswer): Promise<void>;
  fail(error: unknown): Promise<void>;
}

export type IdempotencyStart = { replay: StoredAnswer } | { claim: IdempotencyClaim };

/**
 * Idempotency-Key for the POST routes that create or spend: the first request runs; the same
 * key and body within 24 h replays its answer without reaching Gemini; another body is 422;
 * a request still running is 409. Keys are scoped to the caller.
 */
@Injectable()
export class IdempotencyService {
  /** A `running` record older than this belongs to a process that died: it may be taken over. */
  private readonly abandonedAfterMs: number;

  constructor(
    @InjectRepository(IdempotencyRecordEntity) private readonly records: Repository<IdempotencyRecordEntity>,
    @Inject(appConfig.KEY) config: AppConfig,
    private readonly transactions: TransactionRunner,
  ) {
    this.abandonedAfterMs = config.gemini.timeoutMs * (config.gemini.retries + 1) + 60_000;
  }

  /** Null when the request carries no Idempotency-Key. */
  async start(scope: string, key: string | undefined, fingerprint: unknown): Promise<IdempotencyStart | null> {
    if (key === undefined) return null;
    if (!KEY_PATTERN.test(key)) {
      throw new ValidationFailed('Idempotency-Key: must be 1–255 visible ASCII characters');
    }
    const requestHash = createHash('sha256').update(JSON.stringify(fingerprint)).digest('hex');
    const now = new Date();
    const existing = await this.claimOrFind(scope, key, async (manager) => {
      const repository = manager.getRepository(IdempotencyRecordEntity);
      const record = await repository.findOneBy({ scope, idempotencyKey: key });
      const age = record ? now.getTime() - record.createdAt.getTime() : 0;
      const reusable =
        record === null || age > RETENTION_MS || (record.state === 'running' && age > this.abandonedAfterMs);
      if (!reusable) return record;
      // Claimed inside the write transaction: of two racing requests only one gets here first.
      if (record) await repository.delete({ scope, idempotencyKey: key });
      await repository.insert({ scope, idempotencyKey: key, requestHash, state: 'running', responseStatus: null, responseBody: null, createdAt: now });
      return null;
    });
    if (existing) {
      if (existing.requestHash !== requestHash) throw new IdempotencyKeyReused();
      if (existing.state === 'running') throw new IdempotencyInProgress();
      return { replay: { status: existing.responseStatus!, body: JSON.parse(existing.responseBody!) } };
    }
    return { claim: this.claim(scope, key) };
  }

  /**
   * Runs the claim transaction. On PostgreSQL two racing claims can both find no record; the
   * second insert then fails on the primary key and the winner's record is what counts.
   */
  private async claimOrFind(
    scope: string,
    idempotencyKey: string,
    claim: (manager: EntityManager) => Promise<IdempotencyRecordEntity | null>,
  ): Promise<IdempotencyRecordEntity | null> {
    try {
      return await this.transactions.run(claim);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const winner = await this.records.findOneBy({ scope, idempotencyKey });
      if (!winner) throw error;
      return winner;
    }
  }

  private claim(scope: string, idempotencyKey: string): IdempotencyClaim {
    const where = { scope, idempotencyKey };
    const forget = () => this.transactions.run((manager) => manager.getRepository(IdempotencyRecordEntity).delete(where));
    const keep = (answer: StoredAnswer) =>
      this.transactions.run((manager) =>
        manager
          .getRepository(IdempotencyRecordEntity)
          .update(where, { state: 'done', responseStatus: answer.status, responseBody: JSON.stringify(answer.body) }),
      );
    return {
      complete: async (answer) => {
        await keep(answer);
      },
      fail: async (error) => {
        const { body } = toErrorBody(error);
        // A client error is the answer to this request and is replayed; a failure upstream or
        // on our side (5xx) and a refusal that may pass later (409, 429) are not remembered,
        // so a retry runs again.
        if (body.statusCode < 500 && body.statusCode !== 409 && body.statusCode !== 429) await keep({ status: body.statusCode, body });
        else await forget();
      },
    };
  }

  replay(response: Response, answer: StoredAnswer): void {
    response.setHeader('Idempotent-Replayed', 'true');
    response.status(answer.status).json(answer.body);
  }

  /** Runs `work` under the request's Idempotency-Key (if any) and writes the JSON answer. */
  async respond(
    response: Response,
    scope: string,
    key: string | undefined,
    fingerprint: unknown,
    work: () => Promise<StoredAnswer>,
  ): Promise<void> {
    const start = await this.start(scope, key, fingerprint);
    if (start && 'replay' in start) {
      this.replay(response, start.replay);
      return;
    }
    let answer: StoredAnswer;
    try {
      answer = await work();
    } catch (error) {
      await start?.claim.fail(error);
      throw error;
    }
    await start?.claim.complete(answer);
    response.status(answer.status).json(answer.body);
  }
}
