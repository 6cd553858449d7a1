import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { actsFor, callerScope } from '../access/caller.js';
import type { Caller } from '../access/caller.js';
import { FileNotFound, StorageQuotaExceeded, UnsupportedFileType, ValidationFailed } from '../common/errors.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../common/keyset-cursor.js';
import { pageOf } from '../common/paging.js';
import type { Page } from '../common/paging.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { RateLimiter } from '../coordination/rate-limiter.js';
import { now } from '../core/clock.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { RawBody } from '../http/request-bodies.js';
import { Metrics } from '../metrics/metrics.js';
import { ANONYMOUS_USER_ID } from '../users/user.js';
import type { UsersRepository } from '../users/users.repository.js';
import { DEFAULT_FILE_NAME } from './file.js';
import type { StoredFile } from './file.js';
import { FILE_STORE } from './file-store.js';
import type { FileStore } from './file-store.js';
import { FilesRepository } from './files.repository.js';
import { TurnMedia } from './turn-media.js';
import { mediaFactsOf } from '../gemini/media-tokens.js';
import { ACCEPTED_MIME_TYPES, declaredFormat, disagreement, MEDIA_TYPES } from './media-types.js';

/** File ids are `file_` and 32 hex digits, made here: anything else names no file and is not looked up. */
const FILE_ID = /^file_[0-9a-f]{32}$/;

export interface Upload {
  /** Absent: the key's user, or "anonymous" (open mode, admin key), as for sessions. */
  userId?: string;
  name?: string;
  contentType: string | undefined;
}

/** An upload's file, and whether it is new (201) or the same bytes uploaded before (200). */
export interface Uploaded {
  file: StoredFile;
  created: boolean;
}

@Injectable()
export class FilesService {
  constructor(
    private readonly files: FilesRepository,
    @Inject(FILE_STORE) private readonly store: FileStore,
    private readonly rateLimiter: RateLimiter,
    private readonly unitOfWork: UnitOfWork<{ users: UsersRepository; files: FilesRepository; fileStore: FileStore }>,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly media: TurnMedia,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Stores a file for its user (created when unknown), or answers the one with the same bytes
   * they stored before. In order: the declared type is one we take (415 before a byte is read),
   * the upload counts against the caller's RATE_LIMIT_PER_MINUTE (429, not read), the body is
   * read (413 past FILE_MAX_BYTES), the bytes agree with the declared type (415), and the file
   * fits the user's USER_STORAGE_BYTES (413). Description and bytes commit together or not at all.
   */
  async upload(caller: Caller, upload: Upload, readBody: () => Promise<RawBody>): Promise<Uploaded> {
    const userId = upload.userId ?? (caller.kind === 'user' ? caller.userId : ANONYMOUS_USER_ID);
    const declared = declaredFormat(upload.contentType);
    if (declared === null) {
      const given = upload.contentType ? `Content-Type ${upload.contentType.slice(0, 100)} is not` : 'A file without a Content-Type is not';
      throw new UnsupportedFileType(`${given} an accepted type: send one of ${ACCEPTED_MIME_TYPES.join(', ')}.`);
    }
    await this.rateLimiter.take(callerScope(caller, userId));
    const { bytes, sha256 } = await readBody();
    if (bytes.length === 0) throw new ValidationFailed('body: the file is empty');
    const type = MEDIA_TYPES[declared];
    const found = disagreement(declared, bytes);
    if (found !== null) {
      throw new UnsupportedFileType(`Content-Type ${type.mimeType} was declared, but the bytes are ${found}: declare what the file is.`);
    }
    const facts = type.modality === 'text' ? null : mediaFactsOf(type.mimeType, bytes);
    const file: StoredFile = {
      id: `file_${randomUUID().replace(/-/g, '')}`,
      userId,
      name: upload.name ?? DEFAULT_FILE_NAME,
      mimeType: type.mimeType,
      modality: type.modality,
      bytes: bytes.length,
      sha256,
      createdAt: now(),
      width: facts?.width ?? null,
      height: facts?.height ?? null,
      pages: facts?.pages ?? null,
      durationMs: facts?.seconds === null || facts?.seconds === undefined ? null : Math.ceil(facts.seconds * 1000),
    };
    return this.unitOfWork.commit(async (tx) => {
      await tx.users.ensureExists(userId, file.createdAt);
      await tx.files.lockOwner(userId);
      const existing = await tx.files.findBySha256(userId, sha256);
      if (existing) return { file: existing, created: false };
      const used = await tx.files.bytesOf(userId);
      if (used + file.bytes > this.config.userStorageBytes) throw new StorageQuotaExceeded(this.config.userStorageBytes, used);
      await tx.files.insert(file);
      await tx.fileStore.put(file.id, bytes);
      return { file, created: true };
    });
  }

  /** The file if the caller may act for its owner; otherwise the same 404 as a file that does not exist. */
  async getFor(caller: Caller, fileId: string): Promise<StoredFile> {
    const file = FILE_ID.test(fileId) ? await this.files.findById(fileId) : null;
    if (!file || !actsFor(caller, file.userId)) throw new FileNotFound(fileId);
    return file;
  }

  /** The file with its bytes. */
  async content(caller: Caller, fileId: string): Promise<{ file: StoredFile; bytes: Buffer }> {
    const file = await this.getFor(caller, fileId);
    const bytes = await this.store.get(file.id);
    this.metrics.fileRead('download', bytes?.length ?? null);
    // Deleted in between: the same 404 as if it had never been.
    if (!bytes) throw new FileNotFound(fileId);
    return { file, bytes };
  }

  /** A user's files, newest first, a page at a time. */
  async list(userId: string, limit: number, after: string | undefined): Promise<Page<StoredFile>> {
    return pageOf(await this.files.pageForUser(userId, limit + 1, decodeKeysetCursor(after)), limit, (file) => encodeKeysetCursor(file));
  }

  /**
   * Removes the file and its bytes here, then its copy at Gemini. Messages that carried it keep
   * its name (`deleted: true`); what their turns cost stays.
   */
  async delete(caller: Caller, fileId: string): Promise<void> {
    const file = await this.getFor(caller, fileId);
    const copy = await this.unitOfWork.commit(async ({ files, fileStore }) => {
      const copies = await files.geminiCopies([file.id]);
      await fileStore.delete(file.id);
      await files.delete(file.id);
      return copies.get(file.id) ?? null;
    });
    if (copy) this.media.deleteAtGemini([copy.name]);
  }
}
