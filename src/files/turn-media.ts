import { Inject, Injectable, Logger } from '@nestjs/common';
import { FileNotFound, ValidationFailed } from '../common/errors.js';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { LlmClient } from '../gemini/llm-client.js';
import type { LlmMedia } from '../gemini/llm-client.js';
import type { MessageAttachment } from '../messages/message.js';
import { Metrics } from '../metrics/metrics.js';
import { FILE_STORE } from './file-store.js';
import type { FileStore } from './file-store.js';
import type { StoredFile } from './file.js';
import { FilesRepository } from './files.repository.js';

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

  /**
   * The media of each content, in the order given (undefined where a content has no files).
   * `unavailable`: URIs Gemini just refused as gone — their files are uploaded again.
   */
  async mediaOf(
    contents: readonly (readonly MessageAttachment[])[],
    unavailable: readonly string[] = [],
  ): Promise<(LlmMedia[] | undefined)[]> {
    const ids = [...new Set(contents.flatMap((attachments) => attachments.map((a) => a.fileId)))];
    if (ids.length === 0) return contents.map(() => undefined);
    if (unavailable.length > 0) await this.files.forgetGeminiCopies(unavailable);
    const stored = new Map((await this.files.findByIds(ids)).map((file) => [file.id, file]));
    const inline = this.inlineOf([...stored.values()]);
    const byUri = [...stored.values()].filter((file) => !inline.has(file.id));
    const copies = await this.files.geminiCopies(byUri.map((file) => file.id));
    const media = new Map<string, LlmMedia>();
    for (const file of stored.values()) {
      const copy = copies.get(file.id);
      if (copy && Date.parse(copy.expiresAt) - Date.now() > REUPLOAD_BEFORE_EXPIRY_MS) {
        media.set(file.id, { kind: 'uri', mimeType: file.mimeType, uri: copy.uri });
        continue;
      }
      const data = await this.store.get(file.id);
      this.metrics.fileRead(inline.has(file.id) ? 'inline' : 'files_api', data?.length ?? null);
      if (!data) continue; // deleted since it was looked up: a note, as any deleted file
      if (inline.has(file.id)) {
        media.set(file.id, { kind: 'inline', mimeType: file.mimeType, data });
        continue;
      }
      const uploaded = await this.llm.uploadFile({ data, mimeType: file.mimeType, displayName: file.name });
      if (!(await this.files.rememberGeminiCopy(file.id, uploaded))) {
        // Deleted while it was uploaded: the copy at Gemini goes too, and the turn sends a note.
        this.deleteAtGemini([uploaded.name]);
        continue;
      }
      media.set(file.id, { kind: 'uri', mimeType: file.mimeType, uri: uploaded.uri });
    }
    return contents.map((attachments) =>
      attachments.length === 0 ? undefined : attachments.map((attachment) => media.get(attachment.fileId) ?? deletedNote(attachment)),
    );
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

  /** Deletes copies at Gemini, in the background: a failure is logged (Gemini deletes them within 48 h anyway). */
  deleteAtGemini(names: readonly string[]): void {
    for (const name of names) {
      this.llm.deleteFile(name).catch((error: unknown) => this.logger.warn(`could not delete ${name} at Gemini: ${String(error)}`));
    }
  }
}

/** What a message keeps of a file it carried. */
export function attachmentOf(file: StoredFile): MessageAttachment {
  return {
    fileId: file.id,
    name: file.name,
    mimeType: file.mimeType,
    modality: file.modality,
    bytes: file.bytes,
    sha256: file.sha256,
    width: file.width,
    height: file.height,
    pages: file.pages,
    durationMs: file.durationMs,
    deleted: false,
  };
}

/** What Gemini gets in place of a deleted file: one line, so the conversation still reads in order. */
function deletedNote(attachment: MessageAttachment): LlmMedia {
  return { kind: 'note', text: `[A file the user attached here, "${attachment.name}" (${attachment.mimeType}), has since been deleted.]` };
}
