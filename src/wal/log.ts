/**
 * The write-ahead log: every accepted request's bytes are appended here before it is
 * acknowledged, and a segment is deleted only when every record in it (and in every older
 * segment) is inside a completed object in the store.
 *
 * Durability per `fsync` mode: `always` — an acknowledged request survives a power cut; writes
 * of concurrent requests share one fsync (group commit). `interval` — fsync every
 * `fsync_interval_ms`; a power cut can lose that window, a process crash loses nothing.
 * `never` — the OS decides; a process crash loses nothing (the bytes are in the page cache
 * before the ack), a power cut can lose what the OS had not written.
 */
import { mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { S3ParquetError } from '../errors.js';
import { LogRateLimiter } from '../log-rate-limit.js';
import { decodeEntry, encodeEntry, encodeEntryParts, ENTRY_HEADER, MAX_ENTRY_BYTES, type DataEntry, type DecodeResult, type EntryPlacement, type IntentEntry, type Signal, type WireFormat } from './format.js';

export type FsyncMode = 'always' | 'interval' | 'never';

export interface WalOptions {
  readonly dir: string;
  readonly fsync: FsyncMode;
  readonly fsyncIntervalMs: number;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly logger: Logger;
  /** Told about every failed write (metrics); logs about them are rate-limited. */
  readonly onWriteError?: (code: string) => void;
}

/** What a restart finds: data to replay, what is already stored, objects of unfinished flushes. */
export interface Recovered {
  /** Data entries found, oldest first, without their bodies: `readData(seq)` reads one back. */
  readonly data: RecoveredData[];
  /** `${seq}|${dataset}/${partition}` of every group already inside a committed flush. */
  readonly committed: Set<string>;
  /** Objects written by flushes that never committed: the replay writes their rows again. */
  readonly orphanKeys: string[];
  readonly problems: string[];
}

/** A data entry a restart found: where its request is, not the request itself. */
export interface RecoveredData {
  readonly seq: number;
  readonly receivedNs: bigint;
  readonly signal: Signal;
  readonly format: WireFormat;
  /** Bytes of the request body. */
  readonly bytes: number;
  /** The partitions its records went to, when the entry says (written since issue 20). */
  readonly placement?: EntryPlacement;
}

/** What the start-up scan reads at once: entries are a request each (a few MiB at most). */
const SCAN_BLOCK = 4 * 1024 * 1024;

/**
 * Reads a segment's entries through one block buffer: an entry inside the block is decoded in
 * place, the next block starts at the first entry not wholly inside it.
 */
class BlockReader {
  private block = Buffer.alloc(0);
  private start = 0;
  private loaded = 0;

  constructor(private readonly fh: FileHandle, private readonly size: number) {}

  async entry(offset: number): Promise<DecodeResult> {
    if (offset >= this.size) return offset === this.size ? null : { problem: `entry offset ${offset} beyond the end` };
    await this.cover(offset, Math.min(this.size, offset + ENTRY_HEADER));
    const header = this.view(offset);
    if (header.length >= ENTRY_HEADER) {
      const length = header.readUInt32LE(0);
      // An implausible length is reported by decodeEntry from the header alone.
      if (length <= MAX_ENTRY_BYTES) await this.cover(offset, Math.min(this.size, offset + ENTRY_HEADER + length));
    }
    // The view runs to the end of what is loaded: a torn tail at the end of the file shows as one.
    return rebase(decodeEntry(this.view(offset), 0), offset);
  }

  private view(offset: number): Buffer {
    return this.block.subarray(offset - this.start, this.loaded);
  }

  private async cover(from: number, to: number): Promise<void> {
    if (from >= this.start && to <= this.start + this.loaded) return;
    const want = Math.max(SCAN_BLOCK, to - from);
    if (this.block.length < want) this.block = Buffer.allocUnsafe(want);
    this.start = from;
    this.loaded = 0;
    const end = Math.min(this.size, from + want);
    while (this.start + this.loaded < end) {
      const { bytesRead } = await this.fh.read(this.block, this.loaded, end - this.start - this.loaded, this.start + this.loaded);
      if (bytesRead === 0) break;
      this.loaded += bytesRead;
    }
  }
}

/** decodeEntry's offsets are relative to the view it was given. */
function rebase(r: DecodeResult, base: number): DecodeResult {
  if (r === null) return null;
  if ('problem' in r) return { problem: r.problem.replace(/offset (\d+)/g, (_, n: string) => `offset ${Number(n) + base}`) };
  return { entry: r.entry, next: r.next + base };
}

interface Segment {
  readonly id: number;
  readonly path: string;
  size: number;
  /** Data entries in this segment whose groups are not all stored yet. */
  readonly live: Set<number>;
}

interface Pending {
  /** The entry's bytes in pieces (a data entry's request is not copied into one buffer). */
  readonly parts: readonly Buffer[];
  readonly length: number;
  /** Told where the entry landed (data entries: so a spilled request can be read back). */
  readonly placed?: (segment: Segment, offset: number) => void;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const segmentName = (id: number) => `${String(id).padStart(12, '0')}.wal`;

export class WriteAheadLog {
  private readonly segments: Segment[] = [];
  private active!: Segment;
  private fh!: FileHandle;
  private seq = 1;
  private flushId = 1;
  private readonly outstanding = new Map<number, number>();
  private readonly segmentOf = new Map<number, Segment>();
  /** Where each live data entry's frame starts in its segment, and its length. */
  private readonly placeOf = new Map<number, { readonly offset: number; readonly length: number }>();
  private pending: Pending[] = [];
  private writing: Promise<void> | null = null;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** One line per error code per 10 s at most: a full disk fails every request. */
  private readonly errorLog = new LogRateLimiter(1, 10_000);

  private constructor(private readonly o: WalOptions) {}

  /** Opens the log, reading every existing segment; new entries go to a fresh segment. */
  static async open(o: WalOptions): Promise<{ wal: WriteAheadLog; recovered: Recovered }> {
    const wal = new WriteAheadLog(o);
    await mkdir(o.dir, { recursive: true });
    const recovered = await wal.recover();
    await wal.startSegment((wal.segments.at(-1)?.id ?? 0) + 1);
    if (o.fsync === 'interval') {
      wal.timer = setInterval(() => void wal.syncIfDirty(), o.fsyncIntervalMs);
      wal.timer.unref();
    }
    return { wal, recovered };
  }

  /**
   * Reads every segment an entry at a time (a block of `SCAN_BLOCK` bytes, or one entry when it
   * is larger), keeping only where each data entry is: after a long outage the log can hold
   * `max_size_mb` (GiBs), far more than memory. The replay reads each entry back by its seq.
   */
  private async recover(): Promise<Recovered> {
    const names = (await readdir(this.o.dir)).filter((n) => /^\d{12}\.wal$/.test(n)).sort();
    const data: RecoveredData[] = [];
    const intents: IntentEntry[] = [];
    const committedFlushes = new Set<number>();
    const problems: string[] = [];
    for (const name of names) {
      const path = join(this.o.dir, name);
      const fh = await open(path, 'r');
      try {
        const size = (await fh.stat()).size;
        const seg: Segment = { id: Number(name.slice(0, 12)), path, size, live: new Set() };
        this.segments.push(seg);
        const reader = new BlockReader(fh, size);
        let offset = 0;
        for (;;) {
          const at = offset;
          const r = await reader.entry(offset);
          if (r === null) break;
          if ('problem' in r) {
            // Entries before a torn or corrupt one are intact; what follows it cannot be trusted.
            problems.push(`${name}: ${r.problem}; ${size - offset} bytes skipped`);
            break;
          }
          offset = r.next;
          const e = r.entry;
          if (e.type === 'data') {
            data.push({ seq: e.seq, receivedNs: e.receivedNs, signal: e.signal, format: e.format, bytes: e.body.length, ...(e.placement ? { placement: e.placement } : {}) });
            seg.live.add(e.seq);
            this.segmentOf.set(e.seq, seg);
            this.placeOf.set(e.seq, { offset: at, length: r.next - at });
            this.seq = Math.max(this.seq, e.seq + 1);
          } else if (e.type === 'intent') {
            intents.push(e);
            this.flushId = Math.max(this.flushId, e.flush + 1);
          } else {
            for (const f of e.flushes) committedFlushes.add(f);
          }
        }
      } finally {
        await fh.close();
      }
    }
    const committed = new Set<string>();
    const orphanKeys: string[] = [];
    for (const i of intents) {
      if (committedFlushes.has(i.flush)) for (const s of i.seqs) committed.add(`${s}|${i.dataset}/${i.partition}`);
      else orphanKeys.push(...i.keys);
    }
    for (const p of problems) this.o.logger.warn({ problem: p }, 'write-ahead log: damaged entry skipped');
    return { data, committed, orphanKeys, problems };
  }

  private async startSegment(id: number): Promise<void> {
    const path = join(this.o.dir, segmentName(id));
    this.fh = await open(path, 'a');
    this.active = { id, path, size: 0, live: new Set() };
    this.segments.push(this.active);
  }

  /** Bytes on disk in all live segments. */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /**
   * Appends a request (with where its records went, when known: a restart then need not build
   * its rows to buffer it); resolves once it is as durable as the fsync mode promises.
   */
  async appendData(signal: Signal, format: WireFormat, receivedNs: bigint, body: Uint8Array, placement?: EntryPlacement): Promise<number> {
    const seq = this.seq++;
    const parts = encodeEntryParts({ type: 'data', seq, receivedNs, signal, format, body, ...(placement ? { placement } : {}) });
    const length = parts.reduce((n, p) => n + p.length, 0);
    if (this.bytes + length > this.o.maxBytes) {
      throw new S3ParquetError('WAL_FULL', `the write-ahead log is full (${this.o.maxBytes} bytes); the store is not keeping up — retry later`);
    }
    await this.write(parts, length, (segment, offset) => {
      segment.live.add(seq);
      this.segmentOf.set(seq, segment);
      this.placeOf.set(seq, { offset, length });
    });
    return seq;
  }

  /**
   * Reads a live data entry back (a spilled request, re-read when its partition flushes). The
   * entry is in the log until every one of its groups is stored, so it is always there; a
   * checksum mismatch (the disk changed it) is an error naming the segment and offset.
   */
  async readData(seq: number): Promise<DataEntry> {
    const segment = this.segmentOf.get(seq);
    const place = this.placeOf.get(seq);
    if (!segment || !place) throw new S3ParquetError('WAL_FAILED', `write-ahead log entry ${seq} is not live (already stored, or never written)`);
    const fh = await open(segment.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(place.length);
      const { bytesRead } = await fh.read(buf, 0, place.length, place.offset);
      const r = decodeEntry(buf.subarray(0, bytesRead), 0);
      if (r === null || 'problem' in r || r.entry.type !== 'data' || r.entry.seq !== seq) {
        const why = r === null ? 'nothing there' : 'problem' in r ? r.problem : `entry ${r.entry.type === 'data' ? r.entry.seq : r.entry.type} found instead`;
        throw new S3ParquetError('WAL_FAILED', `write-ahead log entry ${seq} in ${segment.path} at offset ${place.offset} cannot be read back: ${why}`);
      }
      return r.entry;
    } finally {
      await fh.close();
    }
  }

  /** Records that `seq` has `groups` partition groups waiting to be stored (0: none). */
  track(seq: number, groups: number): void {
    if (groups > 0) this.outstanding.set(seq, (this.outstanding.get(seq) ?? 0) + groups);
    else this.settle(seq);
  }

  /** Written before a flush's objects, so a restart can remove them if the flush never commits. */
  async intent(dataset: string, partition: string, seqs: readonly number[], keys: readonly string[]): Promise<number> {
    const flush = this.flushId++;
    const intent = encodeEntry({ type: 'intent', flush, dataset, partition, seqs, keys });
    await this.write([intent], intent.length);
    return flush;
  }

  /** Marks flushes complete and releases one stored group of each of their requests. */
  async commit(flushes: readonly number[], seqs: Iterable<number>): Promise<void> {
    const commit = encodeEntry({ type: 'commit', flushes });
    await this.write([commit], commit.length);
    for (const seq of seqs) {
      const left = (this.outstanding.get(seq) ?? 1) - 1;
      if (left > 0) this.outstanding.set(seq, left);
      else this.settle(seq);
    }
    await this.deleteSettledSegments();
  }

  private settle(seq: number): void {
    this.outstanding.delete(seq);
    this.segmentOf.get(seq)?.live.delete(seq);
    this.segmentOf.delete(seq);
    this.placeOf.delete(seq);
  }

  /** Oldest first, so commit records about live entries (always newer) are never lost. */
  async deleteSettledSegments(): Promise<void> {
    while (this.segments.length > 1 && this.segments[0] !== this.active && this.segments[0]!.live.size === 0) {
      const seg = this.segments.shift()!;
      await unlink(seg.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  private write(parts: readonly Buffer[], length: number, placed?: Pending['placed']): Promise<void> {
    if (this.closed) return Promise.reject(new S3ParquetError('SHUTTING_DOWN', 'the write-ahead log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ parts, length, resolve, reject, ...(placed ? { placed } : {}) });
      this.writing ??= this.drain();
    });
  }

  /** Group commit: everything queued while the previous write ran goes out in one write + fsync. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          if (this.active.size >= this.o.segmentBytes) await this.rotate();
          let total = 0;
          const all: Buffer[] = [];
          for (const p of batch) {
            for (const part of p.parts) all.push(part);
            total += p.length;
          }
          await this.writeAll(all, total);
          if (this.o.fsync === 'always') await this.fh.datasync();
          else this.dirty = true;
          let offset = this.active.size;
          for (const p of batch) {
            p.placed?.(this.active, offset);
            offset += p.length;
          }
          this.active.size += total;
          this.lastError = null;
          for (const p of batch) p.resolve();
        } catch (err) {
          await this.cutTornTail();
          this.lastError = err as NodeJS.ErrnoException;
          const code = (err as NodeJS.ErrnoException).code;
          this.o.onWriteError?.(code ?? 'unknown');
          const suppressed = this.errorLog.take(code ?? 'unknown');
          if (suppressed !== null) this.o.logger.error({ err, code, dir: this.o.dir, suppressed }, 'write-ahead log write failed; requests are refused retryably until it succeeds');
          const e = code === 'ENOSPC'
            ? new S3ParquetError('WAL_FAILED', `write-ahead log disk is full (ENOSPC in ${this.o.dir}); nothing was acknowledged — retry later`, { cause: err })
            : new S3ParquetError('WAL_FAILED', `write-ahead log write failed: ${(err as Error).message}`, { cause: err });
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  /**
   * One gathered write of the group's pieces (no joined copy); a short write (the kernel, or
   * more pieces than one `writev` takes) continues from the first byte not yet written, never
   * left as a torn entry.
   */
  private async writeAll(parts: Buffer[], total: number): Promise<void> {
    let done = 0;
    let rest = parts;
    while (done < total) {
      const { bytesWritten } = await this.fh.writev(rest);
      done += bytesWritten;
      if (done >= total) break;
      let skip = bytesWritten;
      let i = 0;
      while (skip >= rest[i]!.length) skip -= rest[i++]!.length;
      rest = [rest[i]!.subarray(skip), ...rest.slice(i + 1)];
    }
  }

  /**
   * After a failed write (ENOSPC, EIO) part of the entries may be on disk: the file is cut back
   * to the last whole entry, so later appends follow intact entries and replay reads past the
   * spot. If even that fails, a fresh segment takes the next entries (replay stops at the torn
   * tail of this one, and everything in it before the tail is intact).
   */
  private async cutTornTail(): Promise<void> {
    try {
      await this.fh.truncate(this.active.size);
    } catch (err) {
      this.o.logger.error({ err, segment: this.active.path }, 'write-ahead log: could not cut a torn write; starting a new segment');
      await this.rotate().catch(() => undefined);
    }
  }

  /** The last write's failure (ENOSPC, EIO), until a write succeeds again: for `/readyz`. */
  lastError: NodeJS.ErrnoException | null = null;

  private async rotate(): Promise<void> {
    try {
      await this.fh.datasync();
    } finally {
      // Closed even when the sync fails: never left to the garbage collector (DEP0137).
      await this.fh.close();
    }
    await this.startSegment(this.active.id + 1);
  }

  private async syncIfDirty(): Promise<void> {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    await this.fh.datasync().catch((err: unknown) => this.o.logger.error({ err }, 'write-ahead log fsync failed'));
  }

  /**
   * Closes without settling anything: recovered segments stay exactly as found (a start-up
   * that failed after opening the log), only the fresh segment this run created goes if empty.
   */
  async abandon(): Promise<void> {
    if (this.closed) return;
    while (this.writing) await this.writing;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.fh.close();
    if (this.active.size === 0) await unlink(this.active.path).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.writing) await this.writing;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.fh.datasync().catch(() => undefined);
    await this.fh.close().catch(() => undefined);
    await this.deleteSettledSegments();
    // With nothing outstanding, the last segment holds only settled records too.
    if (this.segments.length === 1 && this.active.live.size === 0) {
      await unlink(this.active.path).catch(() => undefined);
      this.segments.length = 0;
    }
  }
}
