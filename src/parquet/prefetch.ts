/**
 * Fewer, larger reads: the byte ranges a read will need are announced up front, merged when
 * they are close (a gap cheaper to transfer than another round trip), fetched in parallel with
 * a bound, and then served from memory when hyparquet asks for them one by one. hyparquet's own
 * prefetch merges whole column chunks only; a lookup reads an offset index, a dictionary page
 * and a few data pages per column, each its own request (~70 ranged GETs for a `select *` of
 * one trace), which on S3 is ~70 round trips.
 */
import type { AsyncBuffer } from 'hyparquet';
import type { PageIndexRegion } from './page-index.js';

/** A byte range [start, end) of a file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Ranges closer than this are read as one: on S3 a request costs a round trip (~1–20 ms),
 * in which tens of KiB more arrive; locally a request costs a system call and a copy either way.
 */
export const COALESCE_GAP_BYTES = 64 * 1024;
/** No merged read grows beyond this (a broad read's ranges stay several requests, in parallel). */
export const MAX_COALESCED_BYTES = 8 * 1024 * 1024;
/** Reads of one prefetch in flight at once. */
export const PREFETCH_PARALLELISM = 4;

/** `ranges` sorted and merged where the gap between them is at most `gap` bytes. */
export function coalesce(ranges: readonly ByteRange[], gap = COALESCE_GAP_BYTES, maxBytes = MAX_COALESCED_BYTES): ByteRange[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + gap && Math.max(last.end, r.end) - last.start <= maxBytes) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

interface Held {
  readonly start: number;
  readonly end: number;
  readonly bytes: Promise<ArrayBuffer>;
}

/**
 * An AsyncBuffer over `file` that serves slices from ranges fetched ahead (`prefetch`, `hold`),
 * and reads anything else from `file` as asked. Held ranges stay until `release`.
 */
export class PrefetchBuffer implements AsyncBuffer {
  readonly byteLength: number;
  private held: Held[] = [];

  /** `pageIndex`: the file's page index, held, and telling `rowRangeBytes` where pages are. */
  constructor(
    private readonly file: AsyncBuffer,
    readonly pageIndex: PageIndexRegion | null = null,
  ) {
    this.byteLength = file.byteLength;
    if (pageIndex) this.hold(pageIndex.start, pageIndex.bytes);
  }

  /** Keeps bytes already in memory (e.g. a cached page index region) at `start`. */
  hold(start: number, bytes: ArrayBuffer): void {
    this.held.push({ start, end: start + bytes.byteLength, bytes: Promise.resolve(bytes) });
  }

  /**
   * Fetches the ranges not already held, merged (`coalesce`), at most `PREFETCH_PARALLELISM`
   * at once; resolves when all have arrived. A failed read rejects here and is forgotten, so
   * a later slice of it reads again (and fails with the store's own error).
   */
  async prefetch(ranges: readonly ByteRange[], gap = COALESCE_GAP_BYTES): Promise<void> {
    const wanted = coalesce(ranges.filter((r) => !this.covered(r.start, r.end)), gap);
    let next = 0;
    const run = async (): Promise<void> => {
      while (next < wanted.length) {
        const r = wanted[next++]!;
        const held: Held = { start: r.start, end: r.end, bytes: Promise.resolve(this.file.slice(r.start, r.end)) };
        this.held.push(held);
        try {
          await held.bytes;
        } catch (err) {
          this.held = this.held.filter((h) => h !== held);
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PREFETCH_PARALLELISM, wanted.length) }, run));
  }

  /** Forgets every fetched range (their memory goes with them); the page index stays. */
  release(): void {
    this.held = [];
    if (this.pageIndex) this.hold(this.pageIndex.start, this.pageIndex.bytes);
  }

  slice(start: number, end?: number): Promise<ArrayBuffer> | ArrayBuffer {
    const stop = end ?? this.byteLength;
    const h = this.find(start, stop);
    if (!h) return this.file.slice(start, stop);
    return h.bytes.then((b) => b.slice(start - h.start, stop - h.start));
  }

  private covered(start: number, end: number): boolean {
    return this.find(start, end) !== undefined;
  }

  private find(start: number, end: number): Held | undefined {
    for (const h of this.held) if (h.start <= start && end <= h.end) return h;
    return undefined;
  }
}
