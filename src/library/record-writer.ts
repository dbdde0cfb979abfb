/**
 * Streaming writes for the library: records go into the daemon's own per-partition buffers
 * (`BufferManager`: flush by rows, bytes and age, retry with backoff after a store failure) and
 * each flush becomes one Parquet file, recorded in the write log like the daemon's.
 *
 * Backpressure follows the memory limit: `write()` resolves once the records are buffered and the
 * buffers are back under `memoryLimitBytes` (flushing everything when they are not), so a
 * producer that awaits each write — or `pipeline(source, writer.toStream())` — holds at most
 * about the limit plus one write in memory.
 */
import { Writable } from 'node:stream';
import { S3ParquetError } from '../errors.js';
import { BufferManager, type FlushBatch } from '../pipeline/buffers.js';
import { eventTimeNs, partitionPath, type Partitioning, TimePartitioning } from '../partitioning/strategies.js';
import { buildBatch, normalizeRecords, type InputRecord } from './records.js';
import type { ParquetSchema } from '../parquet/schema.js';
import { NS_PER_UNIT, type Canonical } from './values.js';

export interface RecordWriterOptions {
  readonly schema: ParquetSchema;
  /** Partition levels under the dataset folder, in order (none: files straight under it). */
  readonly partitioning?: readonly Partitioning[];
  /** Flush a partition at this many records (default 100,000). */
  readonly maxRows?: number;
  /** Flush a partition at this many buffered Arrow bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Flush a partition this long after its first record (default 60 s). */
  readonly maxAgeMs?: number;
  /** Buffered bytes above which writes wait for every buffer to flush (default 256 MiB). */
  readonly memoryLimitBytes?: number;
}

/** What the connector gives a writer: where a flush goes. */
export interface FlushSink {
  /** Encodes and stores one flush (one file), recording it in the write log; throws to retry. */
  store(flush: FlushBatch): Promise<void>;
  /** A flush failed and will be retried after a backoff. */
  failed(err: unknown, flush: FlushBatch): void;
}

const MIB = 1024 * 1024;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class RecordWriter {
  private readonly buffers: BufferManager;
  private readonly strategies: readonly Partitioning[];
  /** A record's event time in ns, for the log's time range: from the time partition's field. */
  private readonly timeOf: (raw: InputRecord, row: Record<string, Canonical>) => bigint;
  private readonly memoryLimit: number;
  private written = 0;
  private closed = false;
  private lastError: unknown;
  /** Highest buffered bytes seen right after a write was accepted (what backpressure bounds). */
  peakBufferedBytes = 0;

  constructor(
    readonly dataset: string,
    private readonly o: RecordWriterOptions,
    sink: FlushSink,
  ) {
    this.strategies = o.partitioning ?? [];
    const timeField = this.strategies.find((s): s is TimePartitioning => s instanceof TimePartitioning)?.field;
    const type = timeField === undefined ? undefined : o.schema.field(timeField)?.type;
    if (timeField === undefined) this.timeOf = () => 0n;
    else if (type?.kind === 'timestamp') {
      // The validated value is already an epoch count in the column's unit: no second parse.
      const per = NS_PER_UNIT[type.unit];
      this.timeOf = (_raw, row) => {
        const v = row[timeField];
        return typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) * per : 0n;
      };
    } else this.timeOf = (raw) => eventTimeNs(raw[timeField]) ?? 0n;
    this.memoryLimit = o.memoryLimitBytes ?? 256 * MIB;
    const limits = { maxRows: o.maxRows ?? 100_000, maxBytes: o.maxBytes ?? 64 * MIB, maxAgeMs: o.maxAgeMs ?? 60_000 };
    for (const [name, v] of Object.entries({ ...limits, memoryLimitBytes: this.memoryLimit })) {
      if (!(Number.isFinite(v) && v > 0)) throw new S3ParquetError('INVALID_ARGUMENT', `createWriter: ${name} must be a number > 0, got ${v}`);
    }
    this.buffers = new BufferManager(limits, (flush) => sink.store(flush), (err, flush) => {
      this.lastError = err;
      sink.failed(err, flush);
    });
    this.buffers.start();
  }

  /** Records accepted so far. */
  get recordsWritten(): number {
    return this.written;
  }

  get bufferedBytes(): number {
    return this.buffers.bufferedBytes;
  }

  /**
   * Buffers one record or many. Every record is checked first (a misfit rejects the whole call,
   * naming its index within the call); resolves when the buffers are under the memory limit.
   */
  async write(input: InputRecord | readonly InputRecord[]): Promise<void> {
    if (this.closed) throw new S3ParquetError('SHUTTING_DOWN', 'the writer is closed');
    const records = Array.isArray(input) ? (input as readonly InputRecord[]) : [input as InputRecord];
    if (records.length === 0) return;
    const rows = normalizeRecords(this.o.schema, records);
    const groups = new Map<string, { rows: Record<string, Canonical>[]; min: bigint; max: bigint }>();
    records.forEach((r, i) => {
      let path: string;
      try {
        path = this.strategies.length > 0 ? partitionPath(this.strategies, r) : '';
      } catch (err) {
        throw new S3ParquetError('SCHEMA_INVALID', `record ${i}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      const t = this.timeOf(r, rows[i]!);
      const g = groups.get(path);
      if (!g) groups.set(path, { rows: [rows[i]!], min: t, max: t });
      else {
        g.rows.push(rows[i]!);
        if (t < g.min) g.min = t;
        if (t > g.max) g.max = t;
      }
    });
    for (const [path, g] of groups) {
      const batch = buildBatch(this.o.schema, g.rows);
      let bytes = 0;
      for (const child of batch.data.children) bytes += child.byteLength;
      this.buffers.add(this.dataset, path, batch, bytes, g.min, g.max);
    }
    this.written += records.length;
    this.peakBufferedBytes = Math.max(this.peakBufferedBytes, this.buffers.bufferedBytes);
    if (this.buffers.bufferedBytes >= this.memoryLimit) await this.buffers.flushAll('bytes');
  }

  /**
   * Flushes every buffer now and waits for the files. When the store fails, the records stay
   * buffered (retried in the background with backoff) and this throws a retryable `S3` error.
   */
  async flush(): Promise<void> {
    await this.buffers.flushAll('manual');
    if (this.buffers.bufferedRows > 0) {
      throw new S3ParquetError('STORE_FAILED', `${this.buffers.bufferedRows} records are still buffered: the store failed (${errorText(this.lastError)}); they are retried in the background, flush() or close() again`, {
        cause: this.lastError,
      });
    }
  }

  /** Flushes and stops; later writes are refused. When the flush fails the writer stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.buffers.stop();
  }

  /**
   * A Node `Writable` in object mode (one record per chunk): its callback waits for `write()`,
   * so the stream's backpressure is the buffers' memory limit. Ending the stream closes the writer.
   */
  toStream(options: { highWaterMark?: number } = {}): Writable {
    return new Writable({
      objectMode: true,
      highWaterMark: options.highWaterMark ?? 1024,
      write: (chunk: InputRecord, _enc, cb) => {
        this.write(chunk).then(() => cb(), cb);
      },
      writev: (chunks, cb) => {
        this.write(chunks.map((c) => c.chunk as InputRecord)).then(() => cb(), cb);
      },
      final: (cb) => {
        this.close().then(() => cb(), cb);
      },
    });
  }
}
