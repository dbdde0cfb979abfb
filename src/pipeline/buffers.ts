/**
 * Per-partition buffers of Arrow record batches, flushed when rows, bytes or age reach their
 * limits, and at shutdown.
 *
 * Flushes run one at a time through a single queue: Parquet encoding is synchronous wasm work
 * anyway, and one at a time keeps wasm memory at the size of one file. A failed flush puts
 * its batches back, so acknowledged data stays in memory until it reaches the store.
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
}

/**
 * Thrown by a flush that stored some of its files before failing: only `remaining` goes back
 * into the buffer, so the files already stored are not written twice.
 */
export class PartialFlushError extends Error {
  constructor(readonly remaining: FlushBatch, options: { cause: unknown }) {
    super(`flush stored part of its files, then failed: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = 'PartialFlushError';
  }
}

export type FlushReason = 'rows' | 'bytes' | 'age' | 'shutdown' | 'manual' | 'retry';
export type FlushFn = (batch: FlushBatch, reason: FlushReason) => Promise<void>;

class PartitionBuffer {
  batches: RecordBatch[] = [];
  rows = 0;
  bytes = 0;
  minTime = 0n;
  maxTime = 0n;

  constructor(readonly dataset: string, readonly partition: string, readonly createdAt: number) {}

  add(batch: RecordBatch, bytes: number, minTime: bigint, maxTime: bigint): void {
    if (this.rows === 0 || minTime < this.minTime) this.minTime = minTime;
    if (this.rows === 0 || maxTime > this.maxTime) this.maxTime = maxTime;
    this.batches.push(batch);
    this.rows += batch.numRows;
    this.bytes += bytes;
  }
}

export class BufferManager {
  private readonly buffers = new Map<string, PartitionBuffer>();
  private queue: Promise<void> = Promise.resolve();
  private pendingFlushes = 0;
  private totalRows = 0;
  private totalBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: BufferLimits,
    private readonly flush: FlushFn,
    private readonly onError: (err: unknown, batch: FlushBatch) => void,
    private readonly now: () => number = Date.now,
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

  add(dataset: string, partition: string, batch: RecordBatch, bytes: number, minTime: bigint, maxTime: bigint): void {
    const key = `${dataset}/${partition}`;
    let buf = this.buffers.get(key);
    if (!buf) {
      buf = new PartitionBuffer(dataset, partition, this.now());
      this.buffers.set(key, buf);
    }
    buf.add(batch, bytes, minTime, maxTime);
    this.totalRows += batch.numRows;
    this.totalBytes += bytes;
    if (buf.rows >= this.limits.maxRows) this.enqueue(key, 'rows');
    else if (buf.bytes >= this.limits.maxBytes) this.enqueue(key, 'bytes');
  }

  flushAged(): void {
    const now = this.now();
    for (const [key, buf] of this.buffers) {
      if (now - buf.createdAt >= this.limits.maxAgeMs) this.enqueue(key, 'age');
    }
  }

  /** Flushes every buffer and waits for all flushes, including ones already queued. */
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
    };
    this.pendingFlushes++;
    this.queue = this.queue.then(async () => {
      try {
        await this.flush(batch, reason);
        this.totalRows -= batch.rows;
        this.totalBytes -= batch.bytes;
      } catch (err) {
        const remaining = err instanceof PartialFlushError ? err.remaining : batch;
        this.onError(err instanceof PartialFlushError ? err.cause : err, batch);
        this.totalRows -= batch.rows - remaining.rows;
        this.totalBytes -= batch.bytes - remaining.bytes;
        this.putBack(remaining);
      } finally {
        this.pendingFlushes--;
      }
    });
  }

  /** A failed flush's batches go back in front of their partition; the age check retries them. */
  private putBack(batch: FlushBatch): void {
    const key = `${batch.dataset}/${batch.partition}`;
    const existing = this.buffers.get(key);
    const buf = new PartitionBuffer(batch.dataset, batch.partition, this.now());
    buf.batches = [...batch.batches, ...(existing?.batches ?? [])];
    buf.rows = batch.rows + (existing?.rows ?? 0);
    buf.bytes = batch.bytes + (existing?.bytes ?? 0);
    buf.minTime = existing && existing.minTime < batch.minTime ? existing.minTime : batch.minTime;
    buf.maxTime = existing && existing.maxTime > batch.maxTime ? existing.maxTime : batch.maxTime;
    this.buffers.set(key, buf);
  }

  /** Partitions still holding data (after a failed flush, for instance). */
  get partitionCount(): number {
    return this.buffers.size;
  }
}
