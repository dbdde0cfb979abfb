/**
 * Per-partition buffers of Arrow record batches, flushed when rows, bytes or age reach their
 * limits, and at shutdown.
 *
 * Flushes run one at a time through a single queue: Parquet encoding is CPU-bound wasm work
 * anyway, and one at a time keeps one flush's copies (its sorted rows, its IPC stream) in memory.
 * (`chunksInFlight` lets a
 * partition's next chunk be read and encoded while the previous one is stored; measured with 2
 * in issue 20, it drained no faster with the encoder on the receiving thread and cost memory,
 * so the daemon keeps 1: docs/durability.md.) A failed flush puts
 * its batches back, so acknowledged data stays in memory until it reaches the store, and the
 * partition is retried with exponential backoff and jitter (1 s doubling to 60 s).
 *
 * Each buffer remembers which write-ahead-log entries (`seqs`) its records came from, and which
 * earlier flushes of its records stored part of their files (`priorFlushes`), so the flush that
 * finally stores them can commit all of it in the log. A failed attempt may still have stored an
 * object (the store wrote it, but the answer was lost on the way back); its keys travel with the
 * records (`abandonedKeys`) and are deleted before the retry writes, so a row is never stored twice.
 *
 * Spill (issue 20): the write-ahead log already holds every buffered request, so when the records
 * in memory outgrow `spill.budgetBytes` (an outage, a slow store), the oldest parts leave memory
 * and stay only as references — a log entry's seq — that `spill.load` turns back into the
 * partition's batch when it is flushed. A buffer with spilled parts is flushed in chunks of
 * about `maxRows`/`maxBytes` each, re-read one chunk at a time, so a backlog of any size drains
 * in normal-sized files with memory bounded by one chunk. A chunk that fails drops what it
 * re-read again. Failing partitions are retried oldest first, one flush at a time. A spilled
 * part that can never come back (`SpillLostError`: its log entry is damaged, gone, or no longer
 * yields the partition's records) goes to `spill.lost` (a dead letter) and the chunk flushes
 * without it, rather than the partition being retried forever.
 */
import type { RecordBatch } from 'apache-arrow';
import { releaseBatchMemory } from '../schema/batch-memory.js';

export interface BufferLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  /**
   * Chunks of one partition's flush in flight at once (default 1): with 2, the next chunk is
   * re-read and encoded while the previous one is being stored. Partitions still flush one
   * after another, oldest first.
   */
  readonly chunksInFlight?: number;
}

/** What a flush hands to the writer. */
export interface FlushBatch {
  readonly dataset: string;
  readonly partition: string;
  readonly batches: RecordBatch[];
  readonly rows: number;
  readonly bytes: number;
  readonly minTime: bigint;
  readonly maxTime: bigint;
  /** Write-ahead-log entries whose group for this partition is in this flush. */
  readonly seqs: readonly number[];
  /** Earlier flushes that stored part of these records before failing. */
  readonly priorFlushes: readonly number[];
  /**
   * Keys that failed attempts at these records meant to write: each may exist (a PUT the store
   * completed whose answer never arrived), so the next attempt deletes them first.
   */
  readonly abandonedKeys: readonly string[];
}

/** How spilled parts come back: the partition's group of one write-ahead-log entry. */
export interface SpillOptions {
  /** In-memory buffered bytes above which the oldest parts are dropped to references. */
  readonly budgetBytes: number;
  /**
   * The most (Arrow) bytes one flush chunk takes, when below `maxBytes`: a flush holds several
   * copies of its chunk at once (sorted, Arrow IPC for the encoder, the encoder's wasm memory,
   * which never shrinks once grown), so the chunk, not the buffers, decides the flush's peak.
   */
  readonly chunkBytes: number;
  readonly load: (seq: number, dataset: string, partition: string) => Promise<RecordBatch>;
  /** Told about parts that left memory (metrics). */
  readonly onSpill?: (dataset: string, rows: number, bytes: number) => void;
  /** Told about spilled records stored after being read back (metrics: the backlog's drain rate). */
  readonly onDrained?: (dataset: string, rows: number) => void;
  /**
   * A spilled part `load` refused with a `SpillLostError`: its records can never come back, so
   * it is moved aside (a dead letter) and its log group released, and the rest of the chunk
   * flushes without it. When this throws, the chunk is retried like any failed one. Without it,
   * such a part is retried forever.
   */
  readonly lost?: (seq: number, dataset: string, partition: string, rows: number, err: SpillLostError) => Promise<void>;
}

/**
 * `spill.load`'s answer for a part that retrying cannot bring back: its log entry is damaged or
 * gone, or no longer yields this partition's records. `entry` is what could still be read.
 */
export class SpillLostError extends Error {
  constructor(message: string, readonly entry: unknown, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'SpillLostError';
  }
}

const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;

/**
 * Thrown by a failed flush with what goes back into the buffer: after a partial store only the
 * records of the files not stored (so stored files are not written twice), and always the keys
 * the attempt may have left behind (`abandonedKeys`).
 */
export class PartialFlushError extends Error {
  constructor(readonly remaining: FlushBatch, options: { cause: unknown; stored: boolean }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(options.stored ? `flush stored part of its files, then failed: ${reason}` : reason, options);
    this.name = 'PartialFlushError';
  }
}

export type FlushReason = 'rows' | 'bytes' | 'age' | 'shutdown' | 'manual' | 'retry';
export type FlushFn = (batch: FlushBatch, reason: FlushReason) => Promise<void>;

/**
 * What to do with a flush that failed for a reason retrying cannot fix: `isPermanent` decides,
 * `discard` moves the batch aside (a dead-letter file) and releases its log entries. Without
 * it, every failure is retried.
 */
export interface PermanentFailurePolicy {
  readonly isPermanent: (err: unknown) => boolean;
  readonly discard: (batch: FlushBatch, err: unknown) => Promise<void>;
}

/**
 * One request's records for one partition: in memory (`batch`), or only in the write-ahead log
 * (`batch` null, re-read through `seqs[0]`). A part put back after a flush that stored some of
 * its files is `pinned`: it must be flushed together with the prior flushes it completes, so it
 * is never spilled and never split from them.
 */
interface Part {
  batch: RecordBatch | null;
  /**
   * The slab the batch's arrays live in (schema/batch-memory.ts), given back for reuse once the
   * part is stored. Only a batch held whole has one: a slice left by a partly stored flush, or a
   * batch re-read from the log, has none; a part that spills drops it with its batch.
   */
  memory?: ArrayBuffer | undefined;
  readonly seqs: readonly number[];
  readonly rows: number;
  readonly bytes: number;
  readonly minTime: bigint;
  readonly maxTime: bigint;
  readonly receivedAt: number;
  readonly pinned: boolean;
  /** Not the whole of its log entry's group (what a partly stored flush left): never spilled. */
  readonly resident: boolean;
  /**
   * Of a resident part's rows, how many were read back from the log before the partly stored
   * flush that left it: they count as drained when they are stored.
   */
  readonly fromLog?: number;
}

class PartitionBuffer {
  parts: Part[] = [];
  rows = 0;
  /** Bytes of all parts, spilled or not (the flush-size trigger). */
  bytes = 0;
  priorFlushes: number[] = [];
  abandonedKeys: string[] = [];
  /** Failed flushes in a row, and when the next attempt may run. */
  failures = 0;
  notBefore = 0;

  constructor(readonly dataset: string, readonly partition: string, public createdAt: number) {}

  push(part: Part): void {
    this.parts.push(part);
    this.rows += part.rows;
    this.bytes += part.bytes;
  }

  /** When the oldest record still here arrived. */
  get oldestAt(): number {
    return this.parts[0]?.receivedAt ?? this.createdAt;
  }
}

const spillable = (p: Part): boolean => p.batch !== null && !p.resident && p.seqs.length === 1;

export class BufferManager {
  private readonly buffers = new Map<string, PartitionBuffer>();
  private queue: Promise<void> = Promise.resolve();
  private pendingFlushes = 0;
  private totalRows = 0;
  /** Bytes of records in memory: buffered, plus the chunk a flush has re-read. */
  private totalBytes = 0;
  private spilledRowsNow = 0;
  private spilledBytesNow = 0;
  /** Detached buffers waiting in the queue or flushing: their rows count, and their oldest record. */
  private readonly detached = new Set<PartitionBuffer>();
  /** Rows and bytes per dataset, counted like the totals (a flush in progress included). */
  private readonly perDataset = new Map<string, { rows: number; bytes: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: BufferLimits,
    private readonly flush: FlushFn,
    private readonly onError: (err: unknown, batch: FlushBatch) => void,
    private readonly now: () => number = Date.now,
    private readonly permanent?: PermanentFailurePolicy,
    private readonly spill?: SpillOptions,
  ) {}

  private get chunksInFlight(): number {
    return Math.max(1, this.limits.chunksInFlight ?? 1);
  }

  /** Starts the age check; the timer is unref'd so it never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    const every = Math.max(10, Math.min(1000, this.limits.maxAgeMs / 4));
    this.timer = setInterval(() => this.flushAged(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Every record not yet stored, in memory or spilled. */
  get bufferedRows(): number {
    return this.totalRows;
  }

  /** Bytes of buffered records held in memory (spilled ones are not). */
  get bufferedBytes(): number {
    return this.totalBytes;
  }

  /** Records and bytes (as Arrow in memory) that live only in the write-ahead log right now. */
  get spilledRows(): number {
    return this.spilledRowsNow;
  }

  get spilledBytes(): number {
    return this.spilledBytesNow;
  }

  /** Bytes of buffers detached for flushing and not yet stored (part of bufferedBytes). */
  get flushingBytes(): number {
    return this.flushing;
  }

  private flushing = 0;

  /** When the oldest record not yet stored arrived (now when nothing is buffered). */
  oldestBufferedAt(): number {
    let oldest = this.now();
    for (const buf of this.buffers.values()) oldest = Math.min(oldest, buf.oldestAt);
    for (const buf of this.detached) oldest = Math.min(oldest, buf.oldestAt);
    return oldest;
  }

  /** Buffered rows and bytes per dataset (what `bufferedRows`/`bufferedBytes` add up). */
  bufferedByDataset(): ReadonlyMap<string, { readonly rows: number; readonly bytes: number }> {
    return this.perDataset;
  }

  private countDataset(dataset: string, rows: number, bytes: number): void {
    const c = this.perDataset.get(dataset);
    if (c) {
      c.rows += rows;
      c.bytes += bytes;
    } else this.perDataset.set(dataset, { rows, bytes });
  }

  private bufferOf(key: string, dataset: string, partition: string, now: number): PartitionBuffer {
    let buf = this.buffers.get(key);
    if (!buf) {
      buf = new PartitionBuffer(dataset, partition, now);
      this.buffers.set(key, buf);
    }
    return buf;
  }

  /** `memory`: the batch's slab (PartitionGroup.memory), given back once the batch is stored. */
  add(dataset: string, partition: string, batch: RecordBatch, bytes: number, minTime: bigint, maxTime: bigint, seq?: number, memory?: ArrayBuffer): void {
    const key = `${dataset}/${partition}`;
    const now = this.now();
    const buf = this.bufferOf(key, dataset, partition, now);
    buf.push({ batch, memory, seqs: seq === undefined ? [] : [seq], rows: batch.numRows, bytes, minTime, maxTime, receivedAt: now, pinned: false, resident: false });
    this.totalRows += batch.numRows;
    this.totalBytes += bytes;
    this.countDataset(dataset, batch.numRows, bytes);
    this.spillIfOver();
    if (buf.notBefore > now) return; // backing off after a failure: the timer retries
    if (buf.rows >= this.limits.maxRows) this.enqueue(key, 'rows');
    else if (buf.bytes >= this.limits.maxBytes) this.enqueue(key, 'bytes');
  }

  /**
   * Whether `bytes` more of records fit in memory under the spill budget (below the level
   * spilling brings it back to), so a replay builds rows only while they would stay; false
   * without spill (then everything is built, as without a log to re-read from).
   */
  roomFor(bytes: number): boolean {
    return !this.spill || this.totalBytes + bytes <= this.spill.budgetBytes * 0.75;
  }

  /** Whether parts can be buffered as references only (`addSpilled`): there is a log to re-read. */
  get canSpill(): boolean {
    return this.spill !== undefined;
  }

  /**
   * Buffers one request's records for a partition as a reference only (a replay after a
   * restart, for records beyond the budget): they were never built, and are read back from the
   * log entry `seq` when the partition flushes, as spilled parts are.
   */
  addSpilled(dataset: string, partition: string, rows: number, bytes: number, minTime: bigint, maxTime: bigint, seq: number): void {
    if (!this.spill) throw new Error('addSpilled needs spill options (a write-ahead log to re-read)');
    const key = `${dataset}/${partition}`;
    const now = this.now();
    const buf = this.bufferOf(key, dataset, partition, now);
    buf.push({ batch: null, seqs: [seq], rows, bytes, minTime, maxTime, receivedAt: now, pinned: false, resident: false });
    this.totalRows += rows;
    this.spilledRowsNow += rows;
    this.spilledBytesNow += bytes;
    this.countDataset(dataset, rows, 0);
    this.spill.onSpill?.(dataset, rows, bytes);
    if (buf.notBefore > now) return; // backing off after a failure: the timer retries
    if (buf.rows >= this.limits.maxRows) this.enqueue(key, 'rows');
    else if (buf.bytes >= this.limits.maxBytes) this.enqueue(key, 'bytes');
  }

  /**
   * Above the budget, the oldest parts of the buffers (failing and detached ones first: they
   * wait longest) leave memory until a quarter of the budget is free again, so spilling runs
   * in bursts rather than on every request.
   */
  private spillIfOver(): void {
    const spill = this.spill;
    if (!spill || this.totalBytes <= spill.budgetBytes) return;
    const target = spill.budgetBytes * 0.75;
    const order = [...this.detached, ...[...this.buffers.values()].sort((a, b) => b.failures - a.failures || a.oldestAt - b.oldestAt)];
    for (const buf of order) {
      let rows = 0;
      let bytes = 0;
      for (const p of buf.parts) {
        if (this.totalBytes <= target) break;
        if (!spillable(p)) continue;
        p.batch = null;
        p.memory = undefined; // the slab goes with the batch (to the garbage collector)
        this.totalBytes -= p.bytes;
        this.spilledRowsNow += p.rows;
        this.spilledBytesNow += p.bytes;
        rows += p.rows;
        bytes += p.bytes;
      }
      if (rows > 0) {
        this.countDataset(buf.dataset, 0, -bytes);
        spill.onSpill?.(buf.dataset, rows, bytes);
      }
      if (this.totalBytes <= target) return;
    }
  }

  flushAged(): void {
    const now = this.now();
    // Oldest first: after an outage the backlog drains in the order it arrived.
    const due: [string, PartitionBuffer, FlushReason][] = [];
    for (const [key, buf] of this.buffers) {
      if (buf.failures > 0) {
        if (now >= buf.notBefore) due.push([key, buf, 'retry']);
      } else if (now - buf.createdAt >= this.limits.maxAgeMs || buf.rows >= this.limits.maxRows || buf.bytes >= this.limits.maxBytes) {
        due.push([key, buf, 'age']);
      }
    }
    due.sort((a, b) => a[1].oldestAt - b[1].oldestAt);
    for (const [key, , reason] of due) this.enqueue(key, reason);
  }

  /** True while some partition is failing to flush (the store is down or refusing). */
  get failing(): boolean {
    for (const buf of this.buffers.values()) if (buf.failures > 0) return true;
    return false;
  }

  /** Flushes every buffer (backoff or not) and waits for all flushes, including queued ones. */
  async flushAll(reason: FlushReason = 'manual'): Promise<void> {
    for (const key of [...this.buffers.keys()]) this.enqueue(key, reason);
    await this.idle();
  }

  /** Resolves when no flush is queued or running. */
  async idle(): Promise<void> {
    while (this.pendingFlushes > 0) await this.queue;
  }

  /**
   * Detaches a buffer now (so new records start a fresh one) and queues its flush: one chunk
   * after another, each re-reading only its own spilled parts. A failed chunk stops the
   * buffer's flush; it and everything after it go back.
   */
  private enqueue(key: string, reason: FlushReason): void {
    const buf = this.buffers.get(key);
    if (!buf || buf.rows === 0) return;
    this.buffers.delete(key);
    this.detached.add(buf);
    this.pendingFlushes++;
    this.queue = this.queue.then(async () => {
      try {
        await this.drain(buf, reason);
      } finally {
        this.detached.delete(buf);
        this.pendingFlushes--;
      }
    });
  }

  /**
   * Flushes a detached buffer chunk after chunk, oldest first, with up to `chunksInFlight` chunks
   * at once: the next chunk is re-read and encoded while the previous one is being stored. A
   * failed chunk stops the taking of further chunks (the untried rest went back with it); the
   * chunks already in flight finish either way.
   */
  private async drain(buf: PartitionBuffer, reason: FlushReason): Promise<void> {
    const width = this.chunksInFlight;
    const inflight = new Set<Promise<void>>();
    let failed = false;
    while (!failed && buf.parts.length > 0) {
      const chunk: Promise<void> = this.flushChunk(buf, reason).then(
        (ok) => {
          if (!ok) failed = true;
        },
        () => {
          failed = true; // flushChunk reports its own failures; this only stops the loop
        },
      );
      inflight.add(chunk);
      void chunk.then(() => inflight.delete(chunk));
      if (inflight.size >= width) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }

  /** Flushes the next chunk of a detached buffer; false when it failed (the rest went back). */
  private async flushChunk(buf: PartitionBuffer, reason: FlushReason): Promise<boolean> {
    let parts = this.takeChunk(buf);
    // Prior flushes and abandoned keys travel with the first chunk only (it holds the pinned
    // parts): taken with the parts, before any await, so a chunk flushing beside it never gets them.
    const carried = { priorFlushes: buf.priorFlushes, abandonedKeys: buf.abandonedKeys };
    buf.priorFlushes = [];
    buf.abandonedKeys = [];
    const giveBackCarried = (): void => {
      buf.priorFlushes = [...carried.priorFlushes, ...buf.priorFlushes];
      buf.abandonedKeys = [...carried.abandonedKeys, ...buf.abandonedKeys];
    };
    let loadedBytes = 0;
    let loadedRows = 0;
    let batch: FlushBatch;
    const lost = new Set<Part>();
    try {
      const batches: RecordBatch[] = [];
      for (const p of parts) {
        if (p.batch === null) {
          let loaded: RecordBatch;
          try {
            loaded = await this.spill!.load(p.seqs[0]!, buf.dataset, buf.partition);
          } catch (err) {
            if (!(err instanceof SpillLostError) || !this.spill!.lost) throw err;
            await this.spill!.lost(p.seqs[0]!, buf.dataset, buf.partition, p.rows, err);
            this.dropLost(buf.dataset, p);
            lost.add(p);
            continue;
          }
          batches.push(loaded);
          loadedBytes += p.bytes;
          loadedRows += p.rows;
          this.totalBytes += p.bytes;
          this.spilledRowsNow -= p.rows;
          this.spilledBytesNow -= p.bytes;
          this.countDataset(buf.dataset, 0, p.bytes);
        } else {
          batches.push(p.batch);
          loadedRows += p.fromLog ?? 0;
        }
      }
      if (lost.size > 0) parts = parts.filter((p) => !lost.has(p));
      if (parts.length === 0) {
        giveBackCarried();
        return true;
      }
      batch = this.chunkBatch(buf, parts, batches, carried);
    } catch (err) {
      // The log entry could not be read back (disk trouble): the chunk stays, retried later.
      if (lost.size > 0) parts = parts.filter((p) => !lost.has(p));
      const failed = this.chunkBatch(buf, parts, [], carried);
      this.onError(err, failed);
      this.unload(buf.dataset, parts, loadedBytes);
      giveBackCarried();
      this.putBack(buf, parts);
      return false;
    }
    this.flushing += batch.bytes;
    try {
      await this.flush(batch, reason);
      // Stored: the slabs of the batches held whole go back for the next requests' batches.
      for (const p of parts) if (p.memory !== undefined) releaseBatchMemory(p.memory);
      this.totalRows -= batch.rows;
      this.totalBytes -= batch.bytes;
      this.countDataset(batch.dataset, -batch.rows, -batch.bytes);
      if (loadedRows > 0) this.spill?.onDrained?.(batch.dataset, loadedRows);
      return true;
    } catch (err) {
      let remaining = err instanceof PartialFlushError ? err.remaining : batch;
      const cause = err instanceof PartialFlushError ? err.cause : err;
      // Rows read back from the log and stored by a partly successful flush are drained; which of
      // the chunk's rows the stored files held is not known, so they count in proportion, and the
      // rest travel with the resident parts (`fromLog`) until stored: the sum is exact.
      const drainedNow = Math.round((loadedRows * (batch.rows - remaining.rows)) / batch.rows);
      if (drainedNow > 0) this.spill?.onDrained?.(batch.dataset, drainedNow);
      if (this.permanent?.isPermanent(cause) === true && (await this.discarded(remaining, cause))) {
        remaining = { ...remaining, batches: [], rows: 0, bytes: 0 };
      } else this.onError(cause, batch);
      this.totalRows -= batch.rows - remaining.rows;
      this.totalBytes -= batch.bytes - remaining.bytes;
      this.countDataset(batch.dataset, remaining.rows - batch.rows, remaining.bytes - batch.bytes);
      if (remaining.rows === 0) return true;
      buf.priorFlushes = [...remaining.priorFlushes, ...buf.priorFlushes];
      buf.abandonedKeys = [...remaining.abandonedKeys, ...buf.abandonedKeys];
      if (remaining.batches === batch.batches) {
        // Nothing stored: the same parts go back; what was re-read leaves memory again.
        this.unload(buf.dataset, parts, loadedBytes);
        this.putBack(buf, parts);
      } else this.putBackRemaining(buf, remaining, parts[0]?.receivedAt ?? this.now(), loadedRows - drainedNow);
      return false;
    } finally {
      this.flushing -= batch.bytes;
    }
  }

  /**
   * The front of a buffer up to one file's rows, and bytes up to `maxBytes` or the spill's
   * `chunkBytes` (the part that crosses them included; pinned parts always together).
   */
  private takeChunk(buf: PartitionBuffer): Part[] {
    const maxBytes = Math.min(this.limits.maxBytes, this.spill?.chunkBytes ?? Number.POSITIVE_INFINITY);
    let rows = 0;
    let bytes = 0;
    let n = 0;
    for (const p of buf.parts) {
      if (n > 0 && !p.pinned && (rows >= this.limits.maxRows || bytes >= maxBytes)) break;
      rows += p.rows;
      bytes += p.bytes;
      n++;
    }
    return buf.parts.splice(0, n);
  }

  private chunkBatch(buf: PartitionBuffer, parts: readonly Part[], batches: RecordBatch[], carried: { readonly priorFlushes: readonly number[]; readonly abandonedKeys: readonly string[] }): FlushBatch {
    let rows = 0;
    let bytes = 0;
    let minTime = 0n;
    let maxTime = 0n;
    const seqs: number[] = [];
    for (const p of parts) {
      if (rows === 0 || p.minTime < minTime) minTime = p.minTime;
      if (rows === 0 || p.maxTime > maxTime) maxTime = p.maxTime;
      rows += p.rows;
      bytes += p.bytes;
      seqs.push(...p.seqs);
    }
    return {
      dataset: buf.dataset, partition: buf.partition, batches, rows, bytes, minTime, maxTime, seqs,
      priorFlushes: carried.priorFlushes, abandonedKeys: carried.abandonedKeys,
    };
  }

  /** A spilled part whose records can never come back (moved aside by `spill.lost`) stops counting. */
  private dropLost(dataset: string, p: Part): void {
    this.totalRows -= p.rows;
    this.spilledRowsNow -= p.rows;
    this.spilledBytesNow -= p.bytes;
    // Its bytes left the dataset's count when it was spilled; its rows leave now.
    this.countDataset(dataset, -p.rows, 0);
  }

  /** Parts that were re-read for a chunk that did not reach the store leave memory again. */
  private unload(dataset: string, parts: readonly Part[], loadedBytes: number): void {
    if (loadedBytes === 0) return;
    for (const p of parts) {
      if (p.batch !== null) continue;
      this.spilledRowsNow += p.rows;
      this.spilledBytesNow += p.bytes;
    }
    this.totalBytes -= loadedBytes;
    this.countDataset(dataset, 0, -loadedBytes);
  }

  /** True once a permanently failing batch is moved aside; false (it is retried) when that fails too. */
  private async discarded(batch: FlushBatch, cause: unknown): Promise<boolean> {
    try {
      await this.permanent!.discard(batch, cause);
      return true;
    } catch (err) {
      this.onError(err, batch);
      return false;
    }
  }

  /**
   * A failed chunk and the parts not yet attempted go back in front of their partition, retried
   * after a backoff. With prior flushes to complete (their intents name this chunk's log
   * entries), the chunk's parts are pinned: the flush that commits those priors must hold all
   * of them, so the chunk is never split or merged differently.
   */
  private putBack(buf: PartitionBuffer, chunk: readonly Part[]): void {
    const pin = buf.priorFlushes.length > 0;
    const back = [...chunk.map((p) => (pin && !p.pinned ? { ...p, pinned: true } : p)), ...buf.parts];
    buf.parts = [];
    this.restore(buf, back, buf.failures + 1);
  }

  /**
   * After a flush stored part of its files: the records of the files not stored stay in memory
   * (`resident`: they are a subset of their log entries, which re-reading would not give back)
   * and pinned, carrying all the chunk's log entries; the untried rest follows unchanged.
   */
  private putBackRemaining(buf: PartitionBuffer, remaining: FlushBatch, receivedAt: number, fromLog: number): void {
    const parts: Part[] = remaining.batches.map((b, i) => ({
      batch: b,
      seqs: i === 0 ? remaining.seqs : [],
      rows: b.numRows,
      // The bytes are counted once, on the first part (the writer does not split them per batch).
      bytes: i === 0 ? remaining.bytes : 0,
      minTime: remaining.minTime,
      maxTime: remaining.maxTime,
      receivedAt,
      pinned: true,
      resident: true,
      ...(i === 0 && fromLog > 0 ? { fromLog } : {}),
    }));
    const back = [...parts, ...buf.parts];
    buf.parts = [];
    this.restore(buf, back, buf.failures + 1);
  }

  private restore(old: PartitionBuffer, back: Part[], failures: number): void {
    const key = `${old.dataset}/${old.partition}`;
    const existing = this.buffers.get(key);
    const buf = new PartitionBuffer(old.dataset, old.partition, Math.min(old.createdAt, existing?.createdAt ?? old.createdAt));
    buf.failures = failures;
    const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1));
    buf.notBefore = this.now() + backoff * (0.5 + Math.random() / 2);
    buf.priorFlushes = [...old.priorFlushes, ...(existing?.priorFlushes ?? [])];
    buf.abandonedKeys = [...old.abandonedKeys, ...(existing?.abandonedKeys ?? [])];
    // They moved to the new buffer: a chunk of the old one still in flight must not carry them too.
    old.priorFlushes = [];
    old.abandonedKeys = [];
    // Pinned parts first: the next chunk carries the prior flushes, so it must hold every part
    // they name (takeChunk always takes pinned parts together, from the front).
    const all = [...back, ...(existing?.parts ?? [])];
    for (const p of all) if (p.pinned) buf.push(p);
    for (const p of all) if (!p.pinned) buf.push(p);
    this.buffers.set(key, buf);
  }

  /** Whether a partition has a buffer now (a flush in progress detached it: then not). */
  has(dataset: string, partition: string): boolean {
    return this.buffers.has(`${dataset}/${partition}`);
  }

  /** Partitions still holding data (after a failed flush, for instance). */
  get partitionCount(): number {
    return this.buffers.size;
  }
}
