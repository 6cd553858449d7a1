import type { EntityManager } from 'typeorm';
import type { KeysetCursor } from '../common/keyset-cursor.js';
import { newestFirstPage } from '../database/keyset-page.js';
import { FileEntity } from './file.entity.js';
import type { StoredFile } from './file.js';

export class FilesRepository {
  constructor(private readonly manager: EntityManager) {}

  private get files() {
    return this.manager.getRepository(FileEntity);
  }

  findById(id: string): Promise<StoredFile | null> {
    return this.files.findOneBy({ id });
  }

  /** The user's file with these bytes, if they uploaded them before. */
  findBySha256(userId: string, sha256: string): Promise<StoredFile | null> {
    return this.files.findOneBy({ userId, sha256 });
  }

  /**
   * Makes the user's uploads wait for each other until this transaction ends, so two at once
   * cannot both fit the quota that only one fits. SQLite runs one transaction at a time already.
   */
  async lockOwner(userId: string): Promise<void> {
    if (this.manager.connection.options.type !== 'postgres') return;
    await this.manager.query('SELECT user_id FROM users WHERE user_id = $1 FOR UPDATE', [userId]);
  }

  /** What the user's files add up to, in bytes. */
  async bytesOf(userId: string): Promise<number> {
    const row = await this.files
      .createQueryBuilder('f')
      .select('COALESCE(SUM(f.bytes), 0)', 'total')
      .where('f.userId = :userId', { userId })
      .getRawOne<{ total: number | string }>();
    return Number(row?.total ?? 0);
  }

  async insert(file: StoredFile): Promise<void> {
    await this.files.insert(file);
  }

  /** A user's files, newest first, after the cursor. */
  pageForUser(userId: string, limit: number, cursor: KeysetCursor | null): Promise<StoredFile[]> {
    return newestFirstPage(this.files.createQueryBuilder('f').where('f.userId = :userId', { userId }), 'f', limit, cursor);
  }

  /** Its bytes in file_blobs go with it (the foreign key cascades). */
  async delete(id: string): Promise<void> {
    await this.files.delete({ id });
  }
}
