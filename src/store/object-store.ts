/**
 * The storage interface: what the pipeline and the query port need from S3 or a directory.
 * Keys are `/`-separated and relative to the store's root (the S3 prefix or local path); the
 * store knows nothing of OTLP or Parquet.
 */

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

export interface ListOptions {
  readonly startAfter?: string;
}

export interface ObjectStore {
  /** Human-readable location, for logs (`file:///data`, `s3://bucket/prefix`). */
  readonly description: string;
  /**
   * Writes an object; it becomes visible to readers only once complete. `tags` are object
   * tags where the store has them (S3), ignored elsewhere.
   */
  put(key: string, body: Uint8Array, tags?: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Writes a small object only when no object has that key (S3: `If-None-Match: *`; local:
   * an exclusive link). Resolves true when written, false when the key exists. Leases use it.
   */
  putIfAbsent(key: string, body: Uint8Array): Promise<boolean>;
  get(key: string): Promise<Uint8Array>;
  /** Bytes [offset, offset + length) of an object. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  head(key: string): Promise<ObjectInfo | null>;
  /**
   * Every object whose key starts with `prefix`, in key order; with `startAfter`, only keys
   * after it (S3 starts the listing there; callers still filter, so a store may ignore it).
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Observes a store's requests (the metrics hook both stores take): the S3-style operation name
 * (putObject, getObject, headObject, listObjects, deleteObjects, multipartUpload), whether it
 * succeeded, how long it took in ms, and the error when it failed.
 */
export type StoreRequestHook = (operation: string, ok: boolean, ms: number, error?: Error) => void;
