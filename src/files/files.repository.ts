import type { EntityManager } from 'typeorm';
import type { KeysetCursor } from '../common/keyset-cursor.js';
import { newestFirstPage } from '../database/keyset-page.js';
import { In } from 'typeorm';
import { FileEntity, GeminiFileEntity } from './file.entity.js';
import type { StoredFile } from './file.js';
import type { UploadedFile } from '../gemini/llm-client.js';

/** A file's copy in Gemini's Files API. */
export type GeminiCopy = Pick<UploadedFile, 'name' | 'uri' | 'expiresAt'>;

export class FilesRepository {
  constructor(private readonly manager: EntityManager) {}

  private get files() {
    return this.manager.getRepository(FileEntity);
  }

  findById(id: string): Promise<StoredFile | null> {
    return this.files.findOneBy({ id });
  }

  /** Those of the files that exist (in no particular order). */
  findByIds(ids: readonly string[]): Promise<StoredFile[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.files.findBy({ id: In([...ids]) });
  }

  private get geminiFiles() {
    return this.manager.getRepository(GeminiFileEntity);
  }

  /** The copies of these files at Gemini (Files API), by file id. */
  async geminiCopies(fileIds: readonly string[]): Promise<Map<string, GeminiCopy>> {
    if (fileIds.length === 0) return new Map();
    const rows = await this.geminiFiles.findBy({ fileId: In([...fileIds]) });
    return new Map(rows.map((row) => [row.fileId, { name: row.name, uri: row.uri, expiresAt: row.expiresAt }]));
  }

  /** Remembers (or replaces) a file's copy at Gemini. A file deleted meanwhile keeps none (nothing is written). */
  async rememberGeminiCopy(fileId: string, copy: UploadedFile): Promise<boolean> {
    if (!(await this.files.existsBy({ id: fileId }))) return false;
    await this.geminiFiles.upsert({ fileId, name: copy.name, uri: copy.uri, expiresAt: copy.expiresAt }, ['fileId']);
    return true;
  }

  /** Forgets the copies at Gemini named by these URIs (Gemini no longer has them). */
  async forgetGeminiCopies(uris: readonly string[]): Promise<void> {
    if (uris.length > 0) await this.geminiFiles.delete({ uri: In([...uris]) });
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
