import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Repository } from 'typeorm';
import { KeyNotFound } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { ApiKeyEntity } from './api-key.entity.js';
import type { Caller } from './caller.js';

const KEY_PATTERN = /^gca_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export interface IssuedKey {
  keyId: string;
  key: string;
  createdAt: Date;
}

@Injectable()
export class ApiKeysService {
  private readonly adminKeyHash: Buffer | null;

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    @Inject(appConfig.KEY) config: AppConfig,
    private readonly transactions: TransactionRunner,
  ) {
    this.adminKeyHash = config.adminApiKey === null ? null : sha256(config.adminApiKey);
  }

  get enabled(): boolean {
    return this.adminKeyHash !== null;
  }

  /** A new key for the user: returned once, stored only as its SHA-256. */
  async issue(userId: string): Promise<IssuedKey> {
    const keyId = randomBytes(8).toString('hex');
    const key = `gca_${keyId}.${randomBytes(32).toString('base64url')}`;
    const createdAt = new Date();
    await this.transactions.run((manager) =>
      manager.getRepository(ApiKeyEntity).insert({ keyId, userId, keyHash: sha256(key).toString('hex'), createdAt }),
    );
    return { keyId, key, createdAt };
  }

  async revoke(userId: string, keyId: string): Promise<void> {
    const result = await this.transactions.run((manager) => manager.getRepository(ApiKeyEntity).delete({ keyId, userId }));
    if (!result.affected) throw new KeyNotFound(keyId);
  }

  /** The caller a bearer token stands for, or null. Hashes are compared in constant time. */
  async authenticate(token: string): Promise<Caller | null> {
    const presented = sha256(token);
    if (this.adminKeyHash && timingSafeEqual(presented, this.adminKeyHash)) return { kind: 'admin' };
    const match = KEY_PATTERN.exec(token);
    if (!match) return null;
    const stored = await this.keys.findOneBy({ keyId: match[1] });
    if (!stored || !timingSafeEqual(presented, Buffer.from(stored.keyHash, 'hex'))) return null;
    return { kind: 'user', userId: stored.userId, keyId: stored.keyId };
  }
}
