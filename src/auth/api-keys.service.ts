import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { KeyNotFound, Unauthorized } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { now } from '../core/clock.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { UsersService } from '../users/users.service.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { OPEN_CALLER } from '../access/caller.js';
import type { Caller } from '../access/caller.js';

const KEY_PATTERN = /^gca_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export interface IssuedKey {
  keyId: string;
  key: string;
  createdAt: string;
}

@Injectable()
export class ApiKeysService {
  private readonly adminKeyHash: Buffer | null;

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly users: UsersService,
    private readonly unitOfWork: UnitOfWork<{ apiKeys: ApiKeysRepository }>,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.adminKeyHash = config.adminApiKey === null ? null : sha256(config.adminApiKey);
  }

  get enabled(): boolean {
    return this.adminKeyHash !== null;
  }

  /** A new key for an existing user: returned once, stored only as its SHA-256. */
  async issue(userId: string): Promise<IssuedKey> {
    await this.users.get(userId);
    const keyId = randomBytes(8).toString('hex');
    const key = `gca_${keyId}.${randomBytes(32).toString('base64url')}`;
    const createdAt = now();
    await this.unitOfWork.commit(({ apiKeys }) => apiKeys.insert({ keyId, userId, keyHash: sha256(key).toString('hex'), createdAt }));
    return { keyId, key, createdAt };
  }

  async revoke(userId: string, keyId: string): Promise<void> {
    const revoked = await this.unitOfWork.commit(({ apiKeys }) => apiKeys.delete(userId, keyId));
    if (!revoked) throw new KeyNotFound(keyId);
  }

  /**
   * Who an Authorization header stands for: anyone in open mode; otherwise its key's caller,
   * or 401 UNAUTHORIZED.
   */
  async callerFor(authorization: string | undefined): Promise<Caller> {
    if (!this.enabled) return OPEN_CALLER;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new Unauthorized();
    const caller = await this.authenticate(match[1]);
    if (!caller) throw new Unauthorized('The API key is not valid (unknown, revoked or mistyped).');
    return caller;
  }

  /** The caller a bearer token stands for, or null. Hashes are compared in constant time. */
  async authenticate(token: string): Promise<Caller | null> {
    const presented = sha256(token);
    if (this.adminKeyHash && timingSafeEqual(presented, this.adminKeyHash)) return { kind: 'admin' };
    const match = KEY_PATTERN.exec(token);
    if (!match) return null;
    const stored = await this.keys.findById(match[1]);
    if (!stored || !timingSafeEqual(presented, Buffer.from(stored.keyHash, 'hex'))) return null;
    return { kind: 'user', userId: stored.userId, keyId: stored.keyId };
  }
}
