import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { integerColumn, timestampColumn } from '../database/columns.js';
import type { StoredFile } from './file.js';
import type { Modality } from './media-types.js';

/**
 * A file's description. Its bytes are a row of `file_blobs` (BLOB on SQLite, BYTEA on PostgreSQL),
 * which has no entity: TypeORM has no binary type both databases take, and only the fixed
 * statements of FileBlobsRepository touch it.
 */
@Entity('files')
@Index('idx_files_user', ['userId', 'createdAt'])
@Index('uq_files_user_sha256', ['userId', 'sha256'], { unique: true })
export class FileEntity implements StoredFile {
  @PrimaryColumn({ name: 'file_id', type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ name: 'mime_type', type: 'varchar', length: 100 })
  mimeType: string;

  @Column({ type: 'varchar', length: 10 })
  modality: Modality;

  @Column({ ...integerColumn('bytes'), nullable: false })
  bytes: number;

  @Column({ type: 'varchar', length: 64 })
  sha256: string;

  @Column(timestampColumn('created_at'))
  createdAt: string;

  /** What the bytes say about the file's token weight (media-tokens.ts); null when unknown. */
  @Column(integerColumn('width'))
  width: number | null;

  @Column(integerColumn('height'))
  height: number | null;

  @Column(integerColumn('pages'))
  pages: number | null;

  @Column(integerColumn('duration_ms'))
  durationMs: number | null;
}

/** A file's copy in Gemini's Files API, reused by URI until shortly before it expires. */
@Entity('gemini_files')
export class GeminiFileEntity {
  @PrimaryColumn({ name: 'file_id', type: 'varchar', length: 40 })
  fileId: string;

  /** `files/…`: what deletes it at Gemini. */
  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** As long as GeminiClient takes one (2,048 characters). */
  @Column({ type: 'varchar', length: 2048 })
  uri: string;

  @Column(timestampColumn('expires_at'))
  expiresAt: string;
}
