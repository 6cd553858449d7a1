import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql.js';
import type { FileStore } from './file-store.js';

const PUT = new Sql('INSERT INTO file_blobs (file_id, content) VALUES (:key, :content)');
const GET = new Sql<{ content: Buffer | Uint8Array }>('SELECT content FROM file_blobs WHERE file_id = :key');
const DELETE = new Sql('DELETE FROM file_blobs WHERE file_id = :key');

/**
 * The FileStore in the database: `file_blobs`, keyed by file id. Bound to a unit of work, a put
 * commits with the file's description or not at all.
 */
export class FileBlobsRepository implements FileStore {
  constructor(private readonly manager: EntityManager) {}

  async put(key: string, content: Buffer): Promise<void> {
    await PUT.execute(this.manager, { key, content });
  }

  async get(key: string): Promise<Buffer | null> {
    const [row] = await GET.rows(this.manager, { key });
    if (!row) return null;
    return Buffer.isBuffer(row.content) ? row.content : Buffer.from(row.content);
  }

  async delete(key: string): Promise<void> {
    await DELETE.execute(this.manager, { key });
  }
}
