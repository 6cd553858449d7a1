import type { EntityManager } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity.js';

export interface StoredApiKey {
  keyId: string;
  userId: string;
  /** SHA-256 of the key, hex. */
  keyHash: string;
  createdAt: string;
}

export class ApiKeysRepository {
  constructor(private readonly manager: EntityManager) {}

  private get keys() {
    return this.manager.getRepository(ApiKeyEntity);
  }

  findById(keyId: string): Promise<StoredApiKey | null> {
    return this.keys.findOneBy({ keyId });
  }

  async insert(key: StoredApiKey): Promise<void> {
    await this.keys.insert(key);
  }

  /** False when the user has no such key. */
  async delete(userId: string, keyId: string): Promise<boolean> {
    const result = await this.keys.delete({ keyId, userId });
    return (result.affected ?? 0) > 0;
  }
}
