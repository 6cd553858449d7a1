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
}

/** The name of a file uploaded without one. */
export const DEFAULT_FILE_NAME = 'file';
