import { Inject, Injectable, Logger } from '@nestjs/common';
import { FileNotFound, ValidationFailed } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { deleteAtGemini, LlmClient } from '../gemini/llm-client.js';
import type { LlmMedia } from '../gemini/llm-client.js';
import type { MessageAttachment } from '../messages/message.js';
import { Metrics } from '../metrics/metrics.js';
import { FILE_STORE } from './file-store.js';
import type { FileStore } from './file-store.js';
import type { StoredFile } from './file.js';
import { FilesRepository } from './files.repository.js';
import type { GeminiCopy } from './files.repository.js';

/** At most this many files a message. */
export const MAX_ATTACHMENTS = 10;

/**
 * What the inline files of one request may add up to: base64 makes 14 MiB into 18.7 MiB, under
 * the 20 MB Gemini documents for a whole request, with room for the text.
 */
const INLINE_BYTES_PER_REQUEST = 14 * 1024 * 1024;

/** A copy at Gemini is uploaded again when it has less than this left before Gemini deletes it (48 h after upload). */
const REUPLOAD_BEFORE_EXPIRY_MS = 60 * 60 * 1000;

/**
 * What a turn's files are to Gemini. A new message's files are checked once (the owner's, each
 * once) and kept with it as they are; each turn then sends every file its context carries, as
 * the stored bytes: inline up to FILE_INLINE_MAX_BYTES, larger ones by the URI of their copy in
 * Gemini's Files API — uploaded on first use, reused until an hour before Gemini deletes it, then
 * uploaded again. A file deleted since its message goes as a one-line note. Each file's bytes are
 * read at most once a turn, however many messages carry it.
 */
@Injectable()
export class TurnMedia {
  private readonly logger = new Logger(TurnMedia.name);

  constructor(
    private readonly files: FilesRepository,
    @Inject(FILE_STORE) private readonly store: FileStore,
    private readonly llm: LlmClient,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** The files a new message attaches, in order: each must be the owner's (else 404 FILE_NOT_FOUND, as a missing one) and listed once. */
  async attach(ownerId: string, fileIds: readonly string[]): Promise<MessageAttachment[]> {
    if (fileIds.length === 0) return [];
    if (fileIds.length > MAX_ATTACHMENTS)
      throw new ValidationFailed(`attachments: at most ${MAX_ATTACHMENTS} files a message, got ${fileIds.length}`);
    const twice = fileIds.find((id, i) => fileIds.indexOf(id) !== i);
    if (twice !== undefined) throw new ValidationFailed(`attachments: file ${twice} is listed more than once`);
    const found = new Map((await this.files.findByIds(fileIds)).map((file) => [file.id, file]));
    return fileIds.map((id) => {
      const file = found.get(id);
      if (!file || file.userId !== ownerId) throw new FileNotFound(id);
      return attachmentOf(file);
    });
  }

  /** What one turn's files are to Gemini: resolved once for the turn, each file's bytes read at most once. */
  forTurn(): TurnFiles {
    return new TurnFiles(this);
  }

  /** Resolves the files not in `resolved` yet (TurnFiles). */
  async resolve(
    ids: readonly string[],
    resolved: Map<string, LlmMedia>,
    attachments: ReadonlyMap<string, MessageAttachment>,
  ): Promise<void> {
    const stored = new Map((await this.files.findByIds(ids)).map((file) => [file.id, file]));
    const inline = this.inlineOf([...stored.values()]);
    const copies = await this.files.geminiCopies([...stored.values()].filter((file) => !inline.has(file.id)).map((file) => file.id));
    for (const id of ids) {
      const file = stored.get(id);
      resolved.set(id, (file && (await this.mediaOfFile(file, inline.has(id), copies.get(id)))) ?? deletedNote(attachments.get(id)!));
    }
  }

  /** Null when the file was deleted meanwhile (its bytes gone, or gone while it was uploaded). */
  private async mediaOfFile(file: StoredFile, inline: boolean, copy: GeminiCopy | undefined): Promise<LlmMedia | null> {
    if (!inline && copy && Date.parse(copy.expiresAt) - Date.now() > REUPLOAD_BEFORE_EXPIRY_MS) {
      return { kind: 'uri', mimeType: file.mimeType, uri: copy.uri };
    }
    const data = await this.store.get(file.id);
    this.metrics.fileRead(inline ? 'inline' : 'files_api', data?.length ?? null);
    if (!data) return null;
    if (inline) return { kind: 'inline', mimeType: file.mimeType, data };
    const uploaded = await this.llm.uploadFile({ data, mimeType: file.mimeType, displayName: file.name });
    let kept: boolean;
    try {
      kept = await this.files.rememberGeminiCopy(file.id, uploaded);
    } catch (error) {
      // Deleted between the check and the write (the foreign key refused it): as deleted.
      if (await this.files.findById(file.id)) throw error;
      kept = false;
    }
    if (!kept) {
      // Deleted while it was uploaded: the copy at Gemini goes too, and the turn sends a note.
      deleteAtGemini(this.llm, this.logger, [uploaded.name]);
      return null;
    }
    return { kind: 'uri', mimeType: file.mimeType, uri: uploaded.uri };
  }

  /** Forgets the copies at Gemini named by these URIs (Gemini no longer has them): they are uploaded again. */
  forgetCopies(uris: readonly string[]): Promise<void> {
    return this.files.forgetGeminiCopies(uris);
  }

  /**
   * Which files go inline: those up to FILE_INLINE_MAX_BYTES, smallest first, while the request
   * stays under Gemini's limit on a whole request (the history's files add up turn after turn);
   * the others go by URI.
   */
  private inlineOf(files: readonly StoredFile[]): Set<string> {
    const inline = new Set<string>();
    let total = 0;
    for (const file of [...files].sort((a, b) => a.bytes - b.bytes)) {
      if (file.bytes > this.config.fileInlineMaxBytes || total + file.bytes > INLINE_BYTES_PER_REQUEST) break;
      total += file.bytes;
      inline.add(file.id);
    }
    return inline;
  }

  /** Deletes copies at Gemini, in the background. */
  deleteAtGemini(names: readonly string[]): void {
    deleteAtGemini(this.llm, this.logger, names);
  }
}

/**
 * One turn's files: each resolved the first time a call of the turn needs it — its bytes read
 * once, a copy uploaded once — and kept for the turn's other calls (a refit, or a retry after a
 * copy Gemini no longer has, which alone is resolved again).
 */
export class TurnFiles {
  private readonly resolved = new Map<string, LlmMedia>();

  constructor(private readonly media: TurnMedia) {}

  /** The media of each content, in the order given (undefined where a content has no files). */
  async mediaOf(contents: readonly (readonly MessageAttachment[])[]): Promise<(LlmMedia[] | undefined)[]> {
    const attachments = new Map(contents.flatMap((files) => files.map((file) => [file.fileId, file] as const)));
    const missing = [...attachments.keys()].filter((id) => !this.resolved.has(id));
    if (missing.length > 0) await this.media.resolve(missing, this.resolved, attachments);
    return contents.map((files) => (files.length === 0 ? undefined : files.map((file) => this.resolved.get(file.fileId)!)));
  }

  /** Gemini no longer has these copies: the files are uploaded again the next time they are needed. */
  async forget(uris: readonly string[]): Promise<void> {
    const gone = new Set(uris);
    for (const [id, media] of this.resolved) if (media.kind === 'uri' && gone.has(media.uri)) this.resolved.delete(id);
    await this.media.forgetCopies(uris);
  }
}

/** What a message keeps of a file it carried. */
export function attachmentOf(file: StoredFile): MessageAttachment {
  return {
    fileId: file.id,
    userId: file.userId,
    name: file.name,
    mimeType: file.mimeType,
    modality: file.modality,
    bytes: file.bytes,
    sha256: file.sha256,
    createdAt: file.createdAt,
    width: file.width,
    height: file.height,
    pages: file.pages,
    durationMs: file.durationMs,
    deleted: false,
  };
}

/** What Gemini gets in place of a deleted file: one line, so the conversation still reads in order. */
export function deletedNoteOf(attachment: MessageAttachment): string {
  return `[A file the user attached here, "${attachment.name}" (${attachment.mimeType}), has since been deleted.]`;
}

function deletedNote(attachment: MessageAttachment): LlmMedia {
  return { kind: 'note', text: deletedNoteOf(attachment) };
}
