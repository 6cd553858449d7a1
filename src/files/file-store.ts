/**
 * Where the bytes of files are kept, by key (a file's id). Today: the database (`file_blobs`,
 * FileBlobsRepository), written in the transaction that stores the file's description, so one
 * backup holds everything and every instance sees every file. An object store (S3, GCS) could
 * take its place behind this interface: see docs/operations.md, "Where files are kept".
 */
export interface FileStore {
  put(key: string, bytes: Buffer): Promise<void>;
  /** The bytes, or null when there are none under the key. */
  get(key: string): Promise<Buffer | null>;
  delete(key: string): Promise<void>;
}

/** The Nest token of the FileStore that reads outside a transaction. */
export const FILE_STORE = Symbol('FILE_STORE');
