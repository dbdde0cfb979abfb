/**
 * Per-partition buffers of Arrow record batches, flushed when rows, bytes or age reach their
 * limits, and at shutdown.
 *
 * Flushes run one at a time through a single queue: Parquet encoding is synchronous wasm work
 * anyway, and one at a time keeps wasm memory at the size of one file. A failed flush puts
 * its batches back, so acknowledged data stays in memory until it reaches the store, and the
 * partition is retried with exponential backoff and jitter (1 s doubling to 60 s).
 *
 * Each buffer remembers which write-ahead-log entries (`seqs`) its records came from, and which
 * earlier flushes of its records stored part of their files (`priorFlushes`), so the flush that
 * finally stores them can commit all of it in the log. A failed attempt may still have stored an
 * object (the store wrote it, but the answer was lost on the way back); its keys travel with the
 * records (`abandonedKeys`) and are deleted before the retry writes, so a row is never stored twice.
 */
import type { RecordBatch } from 'apache-arrow';

export interface BufferLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
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

class PartitionBuffer {
  batches: RecordBatch[] = [];
  rows = 0;
  bytes = 0;
  minTime = 0n;
  maxTime = 0n;
  seqs: number[] = [];
  priorFlushes: number[] = [];
  abandonedKeys: string[] = [];
  /** Failed flushes in a row, and when the next attempt may run. */
  failures = 0;
  notBefore = 0;

  constructor(readonly dataset: string, readonly partition: string, readonly createdAt: number) {}

  add(batch: RecordBatch, bytes: number, minTime: bigint, maxTime: bigint, seq: number | undefined): void {
    if (this.rows === 0 || minTime < this.minTime) this.minTime = minTime;
    if (this.rows === 0 || maxTime > this.maxTime) this.maxTime = maxTime;
    this.batches.push(batch);
    this.rows += batch.numRows;
    this.bytes += bytes;
    if (seq !== undefined) this.seqs.push(seq);
  }
}

export class BufferManager {
  private readonly buffers = new Map<string, PartitionBuffer>();
  private queue: Promise<void> = Promise.resolve();
  private pendingFlushes = 0;
  private totalRows = 0;
  private totalBytes = 0;
  /** Rows and bytes per dataset, counted like the totals (a flush in progress included). */
  private readonly perDataset = new Map<string, { rows: number; bytes: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: BufferLimits,
    private readonly flush: FlushFn,
    private readonly onError: (err: unknown, batch: FlushBatch) => void,
    private readonly now: () => number = Date.now,
    private readonly permanent?: PermanentFailurePolicy,
  ) {}

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

  get bufferedRows(): number {
    return this.totalRows;
  }

  get bufferedBytes(): number {
    return this.totalBytes;
  }

  /** Bytes of buffers detached for flushing and not yet stored (part of bufferedBytes). */
  get flushingBytes(): number {
    return this.flushing;
  }

  private flushing = 0;

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

  add(dataset: string, partition: string, batch: RecordBatch, bytes: number, minTime: bigint, maxTime: bigint, seq?: number): void {
    const key = `${dataset}/${partition}`;
    let buf = this.buffers.get(key);
    if (!buf) {
      buf = new PartitionBuffer(dataset, partition, this.now());
      this.buffers.set(key, buf);
    }
    buf.add(batch, bytes, minTime, maxTime, seq);
    this.totalRows += batch.numRows;
    this.totalBytes += bytes;
    this.countDataset(dataset, batch.numRows, bytes);
    if (buf.notBefore > this.now()) return; // backing off after a failure: the timer retries
    if (buf.rows >= this.limits.maxRows) this.enqueue(key, 'rows');
    else if (buf.bytes >= this.limits.maxBytes) this.enqueue(key, 'bytes');
  }

  flushAged(): void {
    const now = this.now();
    for (const [key, buf] of this.buffers) {
      if (buf.failures > 0) {
        if (now >= buf.notBefore) this.enqueue(key, 'retry');
      } else if (now - buf.createdAt >= this.limits.maxAgeMs || buf.rows >= this.limits.maxRows || buf.bytes >= this.limits.maxBytes) {
        this.enqueue(key, 'age');
      }
    }
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

  /** Detaches a buffer now (so new records start a fresh one) and queues its flush. */
  private enqueue(key: string, reason: FlushReason): void {
    const buf = this.buffers.get(key);
    if (!buf || buf.rows === 0) return;
    this.buffers.delete(key);
    const batch: FlushBatch = {
      dataset: buf.dataset,
      partition: buf.partition,
      batches: buf.batches,
      rows: buf.rows,
      bytes: buf.bytes,
      minTime: buf.minTime,
      maxTime: buf.maxTime,
      seqs: buf.seqs,
      priorFlushes: buf.priorFlushes,
      abandonedKeys: buf.abandonedKeys,
    };
    const failures = buf.failures;
    this.pendingFlushes++;
    this.flushing += batch.bytes;
    this.queue = this.queue.then(async () => {
      try {
        await this.flush(batch, reason);
        this.totalRows -= batch.rows;
        this.totalBytes -= batch.bytes;
        this.countDataset(batch.dataset, -batch.rows, -batch.bytes);
      } catch (err) {
        let remaining = err instanceof PartialFlushError ? err.remaining : batch;
        const cause = err instanceof PartialFlushError ? err.cause : err;
        if (this.permanent?.isPermanent(cause) === true && (await this.discarded(remaining, cause))) {
          remaining = { ...remaining, batches: [], rows: 0, bytes: 0 };
        } else this.onError(cause, batch);
        this.totalRows -= batch.rows - remaining.rows;
        this.totalBytes -= batch.bytes - remaining.bytes;
        this.countDataset(batch.dataset, remaining.rows - batch.rows, remaining.bytes - batch.bytes);
        if (remaining.rows > 0) this.putBack(remaining, failures + 1);
      } finally {
        this.flushing -= batch.bytes;
        this.pendingFlushes--;
      }
    });
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

  /** A failed flush's batches go back in front of their partition, retried after a backoff. */
  private putBack(batch: FlushBatch, failures: number): void {
    const key = `${batch.dataset}/${batch.partition}`;
    const existing = this.buffers.get(key);
    const buf = new PartitionBuffer(batch.dataset, batch.partition, this.now());
    buf.failures = failures;
    const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1));
    buf.notBefore = this.now() + backoff * (0.5 + Math.random() / 2);
    buf.seqs = [...batch.seqs, ...(existing?.seqs ?? [])];
    buf.priorFlushes = [...batch.priorFlushes, ...(existing?.priorFlushes ?? [])];
    buf.abandonedKeys = [...batch.abandonedKeys, ...(existing?.abandonedKeys ?? [])];
    buf.batches = [...batch.batches, ...(existing?.batches ?? [])];
    buf.rows = batch.rows + (existing?.rows ?? 0);
    buf.bytes = batch.bytes + (existing?.bytes ?? 0);
    buf.minTime = existing && existing.minTime < batch.minTime ? existing.minTime : batch.minTime;
    buf.maxTime = existing && existing.maxTime > batch.maxTime ? existing.maxTime : batch.maxTime;
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
