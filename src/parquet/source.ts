/**
 * Parquet files in the store, as hyparquet reads them: an AsyncBuffer whose slices are
 * byte-range GETs (never the whole file when only a footer, some columns or some row groups are
 * needed), counting the bytes read, plus a bounded LRU of parsed footers so repeated queries do
 * not fetch them again.
 */
import { parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import type { ObjectStore } from '../store/object-store.js';

/** Nanosecond timestamps stay exact bigints (hyparquet's default Date keeps milliseconds). */
export const PARSERS = {
  timestampFromNanoseconds: (ns: bigint): bigint => ns,
  timestampFromMicroseconds: (us: bigint): bigint => us * 1000n,
  timestampFromMilliseconds: (ms: bigint): bigint => ms * 1_000_000n,
  // Dates as YYYY-MM-DD text: exact, JSON-friendly, and ordered like the dates for filters.
  dateFromDays: (days: number): string => new Date(days * 86_400_000).toISOString().slice(0, 10),
};

export interface ReadCounter {
  bytesRead: number;
  requests: number;
}

export function storeBuffer(store: ObjectStore, key: string, size: number, counter: ReadCounter): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      counter.bytesRead += stop - start;
      counter.requests++;
      const bytes = await store.getRange(key, start, stop - start);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/**
 * Files up to this size are read whole, in one request, on first touch: a small file's footer,
 * page indexes and pages are otherwise one ranged GET each (~70 for a lookup's `select *`), and
 * on S3 every request costs a round trip. A sidecar's flushes are mostly far smaller than this.
 */
export const WHOLE_FILE_BYTES = 256 * 1024;

/** `file` itself when it is larger than `WHOLE_FILE_BYTES`, else one read whole on first use. */
export function wholeWhenSmall(file: AsyncBuffer): AsyncBuffer {
  if (file.byteLength > WHOLE_FILE_BYTES) return file;
  let all: Promise<ArrayBuffer> | undefined;
  return {
    byteLength: file.byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      all ??= Promise.resolve(file.slice(0, file.byteLength));
      return (await all).slice(start, end ?? file.byteLength);
    },
  };
}

/**
 * The first read of a file takes its last bytes, hoping to get the whole footer in one request
 * (hyparquet reads more when the footer is larger). Our footers with a handful of row groups
 * are a few KiB; 16 KiB keeps small files from being read whole just for their footer.
 */
const FOOTER_FETCH_BYTES = 16 * 1024;

/**
 * A large file's first read takes this many of its last bytes: the footer and, before it, the
 * page index (parquet-rs writes them together), in one request instead of two or three.
 */
export const TAIL_FETCH_BYTES = 256 * 1024;

/** Footers by key and size (a rewritten object has a new size or a new key). */
export class FooterCache {
  private readonly entries = new Map<string, FileMetaData>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = 512) {}

  has(key: string, size: number): boolean {
    return this.entries.has(`${key}@${size}`);
  }

  async get(key: string, file: AsyncBuffer): Promise<FileMetaData> {
    const id = `${key}@${file.byteLength}`;
    const hit = this.entries.get(id);
    if (hit) {
      this.hits++;
      this.entries.delete(id); // re-insert: most recently used last
      this.entries.set(id, hit);
      return hit;
    }
    this.misses++;
    const metadata = await parquetMetadataAsync(file, { parsers: PARSERS, initialFetchSize: FOOTER_FETCH_BYTES });
    this.entries.set(id, metadata);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return metadata;
  }

  forget(keyPrefix: string): void {
    for (const id of [...this.entries.keys()]) if (id.startsWith(keyPrefix)) this.entries.delete(id);
  }
}
