import type { Modality } from './media-types.js';

/** A file a user uploaded: its description. Its bytes are in the FileStore, under its id. */
export interface StoredFile {
  id: string;
  userId: string;
  name: string;
  mimeType: string;
  modality: Modality;
  bytes: number;
  /** Hex SHA-256 of the bytes: the same bytes uploaded again by the same user are this file. */
  sha256: string;
  createdAt: string;
  /** What the bytes say about the file's token weight (gemini/media-tokens.ts), read once at upload; null when unknown. */
  width: number | null;
  height: number | null;
  pages: number | null;
  durationMs: number | null;
}

/** The name of a file uploaded without one. */
export const DEFAULT_FILE_NAME = 'file';
