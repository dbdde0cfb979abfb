/**
 * The transport-agnostic ingest path: decoded OTLP request → batches per partition →
 * buffers → Parquet files in the store. Both receivers call `export`; nothing here knows
 * about HTTP or gRPC.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import { S3ParquetError } from '../errors.js';
import type { Signal } from '../otlp/json-ids.js';
import type { ExportLogsServiceRequest, ExportTraceServiceRequest } from '../otlp/types.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { LOGS_SCHEMA_VERSION } from '../schema/logs.js';
import { METRICS_SCHEMA_VERSION } from '../schema/metrics.js';
import type { ExportMetricsServiceRequest } from '../otlp/metric-types.js';
import { TRACES_SCHEMA_VERSION } from '../schema/traces.js';
import { BufferManager, PartialFlushError, SpillLostError, type BufferLimits, type FlushBatch, type FlushReason } from './buffers.js';
import { convertLogs } from './convert-logs.js';
import { convertLogsWire } from './convert-logs-wire.js';
import { convertMetricsWire } from './convert-metrics-wire.js';
import { convertMetrics } from './convert-metrics.js';
import { convertTraces } from './convert-traces.js';
import { convertTracesWire } from './convert-traces-wire.js';
import { WireRequest } from '../otlp/wire-reader.js';
import type { ConvertedRequest, PartitionGroup } from './converted.js';
import { prepareRequest, type WireFormat } from '../otlp/decode.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Recovered, RecoveredData, WriteAheadLog } from '../wal/log.js';
import type { DataEntry, EntryPlacement, GroupMeta } from '../wal/format.js';
import type { DeadLetters } from '../wal/dead-letter.js';
import { isPermanentStoreFailure } from '../store/permanent.js';
import type { FileWriter, WrittenFile } from './file-writer.js';
import type { Partitioner } from './partitioner.js';

/**
 * How many bytes of JavaScript objects one byte of request becomes while it is decoded and
 * converted (measured roughly with the bench load: protobuf's compact varints expand most).
 */
const DECODE_EXPANSION = { protobuf: 8, json: 4 } as const;

/**
 * The share of `memory_limit_mb` buffered records may hold in memory before the oldest are
 * spilled (left in the write-ahead log only): the rest is for requests being decoded and the
 * chunk a flush has re-read and copies while sorting and encoding.
 */
const SPILL_SHARE = 0.5;

/**
 * The share of `memory_limit_mb` one flush chunk may hold (Arrow bytes). Measured (issue 20,
 * bench/outage.ts, limit 64 MiB): a flush holds about four copies of its chunk at its peak — the
 * re-read batches, the sorted copy, the Arrow IPC handed to the encoder, and parquet-wasm's
 * memory, which grows to the largest encode and never shrinks. A chunk of `max_bytes_mb` (64 MiB
 * by default) took RSS to 601 MiB; a quarter of the limit still drained at +229..253 MiB over
 * the idle daemon, past the limit + 150 MiB bound; an eighth drained at +199 MiB for the same CPU
 * per span (files are smaller: an eighth of the limit of Arrow each).
 */
const CHUNK_SHARE = 0.125;

/** The dataset each signal is stored in. */
export const DATASET_OF: Readonly<Record<Signal, string>> = { traces: 'traces', logs: 'logs', metrics: 'metrics' };

export const SCHEMA_VERSIONS: Readonly<Record<string, number>> = {
  traces: TRACES_SCHEMA_VERSION,
  logs: LOGS_SCHEMA_VERSION,
  metrics: METRICS_SCHEMA_VERSION,
};

export interface ExportResult {
  readonly accepted: number;
  readonly rejected: number;
  readonly errorMessage: string;
}

export interface PipelineOptions {
  readonly partitioner: Partitioner;
  readonly limits: BufferLimits;
  readonly promoted: Readonly<Record<Signal, readonly PromotedSpec[]>>;
  readonly writer: FileWriter;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Called after each file reaches the store (tests and metrics hook in here). */
  readonly onFileWritten?: (file: WrittenFile, flush: FlushBatch) => void;
  /** Called after each flush that stored all its files (metrics: duration, compression). */
  readonly onFlush?: (flush: FlushInfo) => void;
  /** The write-ahead log; without it an acknowledged request lives only in memory until flushed. */
  readonly wal?: WriteAheadLog;
  /** Buffered plus in-flight bytes above which requests are refused (retryably). */
  readonly memoryLimitBytes?: number;
  /**
   * Where records that can never be stored go (a WAL entry that no longer decodes, a flush the
   * store refuses for good); without it such a flush is retried like any other.
   */
  readonly deadLetters?: DeadLetters;
  /** Distinct partitions buffered at once; records of further new partitions are refused. */
  readonly maxPartitions?: number;
  /** Told about records that left memory for the write-ahead log (metrics). */
  readonly onSpill?: (dataset: string, rows: number, bytes: number) => void;
  /** Told about spilled records stored after being read back from the log (metrics). */
  readonly onDrained?: (dataset: string, rows: number) => void;
  /** Told how many new partitions (and their records) a request had refused for `maxPartitions`. */
  readonly onPartitionsRefused?: (dataset: string, partitions: number, records: number) => void;
}

/** What `onFlush` is told about a completed flush. */
export interface FlushInfo {
  readonly dataset: string;
  readonly partition: string;
  readonly reason: FlushReason;
  readonly rows: number;
  readonly files: number;
  /** Arrow bytes the records held in memory, and the Parquet bytes they became. */
  readonly rawBytes: number;
  readonly bytes: number;
  readonly seconds: number;
}

/** The request bytes as received (decompressed), for the write-ahead log. */
export interface RawRequest {
  readonly format: WireFormat;
  readonly body: Uint8Array;
}

export class Pipeline {
  private readonly buffers: BufferManager;
  private closed = false;

  constructor(private readonly options: PipelineOptions) {
    this.buffers = new BufferManager(
      options.limits,
      (batch, reason) => this.writeFlush(batch, reason),
      (err, batch) =>
        options.logger.error(
          { err, dataset: batch.dataset, partition: batch.partition, rows: batch.rows },
          'flush failed; records stay buffered and will be retried',
        ),
      options.now,
      options.deadLetters ? { isPermanent: isPermanentStoreFailure, discard: (batch, err) => this.discard(batch, err) } : undefined,
      // Spill needs the log (it is where spilled records live) and a budget to stay under.
      options.wal && options.memoryLimitBytes !== undefined
        ? {
            budgetBytes: options.memoryLimitBytes * SPILL_SHARE,
            chunkBytes: options.memoryLimitBytes * CHUNK_SHARE,
            load: (seq, dataset, partition) => this.loadSpilled(seq, dataset, partition),
            ...(options.deadLetters ? { lost: (seq: number, dataset: string, partition: string, rows: number, err: SpillLostError) => this.spillLost(seq, dataset, partition, rows, err) } : {}),
            ...(options.onSpill ? { onSpill: options.onSpill } : {}),
            ...(options.onDrained ? { onDrained: options.onDrained } : {}),
          }
        : undefined,
    );
    this.buffers.start();
  }

  /** Signals this pipeline can store (the others answer 404 / UNIMPLEMENTED). */
  supports(signal: Signal): boolean {
    return signal in DATASET_OF;
  }

  /**
   * Accepts a decoded request: converts it, appends the raw bytes to the write-ahead log (the
   * promise resolves only once they are as durable as `[wal] fsync` promises), then buffers it.
   * Refuses retryably when buffered plus in-flight data is at the memory limit.
   */
  async export(signal: Signal, request: unknown, raw?: RawRequest): Promise<ExportResult> {
    if (this.closed) throw new S3ParquetError('SHUTTING_DOWN', 'the daemon is shutting down; retry against another instance');
    const receivedNs = this.nowNs();
    const converted = this.convert(signal, request, receivedNs);
    const { kept, refused } = this.capPartitions(signal, converted.groups);
    let seq: number | undefined;
    const wal = this.options.wal;
    if (wal && raw && kept.length > 0) {
      seq = await wal.appendData(signal, raw.format, receivedNs, raw.body, this.placement(converted.groups));
      if (refused.length > 0) await this.markRefused(wal, signal, seq, refused);
    }
    this.add(signal, kept, seq);
    if (refused.length === 0) return { accepted: converted.accepted, rejected: converted.rejected, errorMessage: converted.errorMessage };
    const records = refused.reduce((n, g) => n + g.batch.numRows, 0);
    const message = `${records} records of ${refused.length} new partitions refused: [buffer] max_partitions (${this.options.maxPartitions}) partitions are buffered; retry them later`;
    return {
      accepted: converted.accepted - records,
      rejected: converted.rejected + records,
      errorMessage: converted.errorMessage === '' ? message : `${converted.errorMessage}; ${message}`,
    };
  }

  /**
   * Splits a request's groups into those that fit under `maxPartitions` (partitions already
   * buffered always do) and new partitions beyond it. When none fits, the whole request is
   * refused retryably; otherwise the excess is a partial success.
   */
  private capPartitions(signal: Signal, groups: readonly PartitionGroup[]): { kept: readonly PartitionGroup[]; refused: readonly PartitionGroup[] } {
    const max = this.options.maxPartitions;
    if (max === undefined) return { kept: groups, refused: [] };
    const dataset = DATASET_OF[signal];
    let room = max - this.buffers.partitionCount;
    if (groups.length <= room) return { kept: groups, refused: [] };
    const kept: PartitionGroup[] = [];
    const refused: PartitionGroup[] = [];
    for (const g of groups) {
      if (this.buffers.has(dataset, g.partition)) kept.push(g);
      else if (room > 0) {
        room--;
        kept.push(g);
      } else refused.push(g);
    }
    if (refused.length > 0) this.options.onPartitionsRefused?.(dataset, refused.length, refused.reduce((n, g) => n + g.batch.numRows, 0));
    if (kept.length === 0) {
      throw new S3ParquetError('OVERLOADED', `[buffer] max_partitions (${max}) partitions are buffered and this request adds only new ones; retry after the next flushes`);
    }
    return { kept, refused };
  }

  /** Where a request's records went, for its log entry (a restart buffers them without building rows). */
  private placement(groups: readonly PartitionGroup[]): EntryPlacement {
    return {
      placing: this.options.partitioner.fingerprint,
      groups: groups.map((g) => ({ partition: g.partition, rows: g.batch.numRows, bytes: g.bytes, minTime: g.minTime, maxTime: g.maxTime })),
    };
  }

  /** The log holds the whole request: record its refused groups as done, so a restart skips them. */
  private async markRefused(wal: WriteAheadLog, signal: Signal, seq: number, refused: readonly PartitionGroup[]): Promise<void> {
    const dataset = DATASET_OF[signal];
    const flushes = await Promise.all(refused.map((g) => wal.intent(dataset, g.partition, [seq], [])));
    await wal.commit(flushes, []);
  }

  /**
   * Admission before a body is decoded: decoding expands a request several times over
   * (protobuf more than JSON), so its estimated cost counts against `memory_limit_mb` together
   * with the buffered Arrow data. Refuses retryably when it does not fit; call `release` with
   * the returned cost once the request is done.
   */
  admit(bodyBytes: number, format: WireFormat): number {
    if (this.closed) throw new S3ParquetError('SHUTTING_DOWN', 'the daemon is shutting down; retry against another instance');
    const cost = bodyBytes * (format === 'protobuf' ? DECODE_EXPANSION.protobuf : DECODE_EXPANSION.json);
    const limit = this.options.memoryLimitBytes ?? Number.POSITIVE_INFINITY;
    // A flush briefly holds two more copies of its data (sorted, then Arrow IPC for the encoder).
    const used = this.buffers.bufferedBytes + 2 * this.buffers.flushingBytes + this.inflightBytes;
    if (used + cost > limit && this.inflightBytes > 0) {
      throw new S3ParquetError('OVERLOADED', `buffered and in-flight data is at the memory limit (${Math.round(limit / 1048576)} MiB); retry later`);
    }
    if (this.buffers.bufferedBytes > limit) {
      throw new S3ParquetError('OVERLOADED', `buffered data is at the memory limit (${Math.round(limit / 1048576)} MiB); retry later`);
    }
    this.inflightBytes += cost;
    return cost;
  }

  release(cost: number): void {
    this.inflightBytes -= cost;
  }

  /**
   * Admission while a body inflates (gzip): `bytes` more of decompressed output, on top of
   * `held` this request already charged. Refused (OVERLOADED, retryable) when it does not fit
   * under `memory_limit_mb` and other requests are in flight, so concurrent gzip bodies cannot
   * inflate past the limit together; a request alone may always proceed (its size is bounded by
   * the body limit). The caller releases everything it charged once inflation is done.
   */
  chargeInflating(bytes: number, held: number): void {
    if (this.closed) throw new S3ParquetError('SHUTTING_DOWN', 'the daemon is shutting down; retry against another instance');
    const limit = this.options.memoryLimitBytes ?? Number.POSITIVE_INFINITY;
    const used = this.buffers.bufferedBytes + 2 * this.buffers.flushingBytes + this.inflightBytes;
    if (used + bytes > limit && this.inflightBytes - held > 0) {
      throw new S3ParquetError('OVERLOADED', `decompressed request bodies in flight are at the memory limit (${Math.round(limit / 1048576)} MiB); retry later`);
    }
    this.inflightBytes += bytes;
  }

  private inflightBytes = 0;

  private nowNs(): bigint {
    return BigInt(Math.round((this.options.now ?? Date.now)() * 1000)) * 1000n;
  }

  private add(signal: Signal, groups: readonly PartitionGroup[], seq: number | undefined): void {
    const dataset = DATASET_OF[signal];
    for (const g of groups) this.buffers.add(dataset, g.partition, g.batch, g.bytes, g.minTime, g.maxTime, seq, g.memory);
    if (seq !== undefined) this.options.wal!.track(seq, groups.length);
  }

  /**
   * Replays what the write-ahead log holds after a restart: objects of flushes that never
   * committed are removed (their rows are written again), and groups already inside committed
   * flushes are skipped, so nothing is stored twice. Entries are read back one at a time and
   * buffered the way live requests are, so what outgrows the spill budget stays in the log as a
   * reference: a log of `max_size_mb` (GiBs after a long outage) replays within the memory limit.
   */
  async replay(recovered: Recovered, store: ObjectStore): Promise<{ requests: number; records: number; deadLetters: number }> {
    const wal = this.options.wal;
    if (!wal) throw new S3ParquetError('WAL_FAILED', 'replay needs the write-ahead log it recovered from');
    if (recovered.orphanKeys.length > 0) await this.deleteOrphans(recovered.orphanKeys, store);
    let records = 0;
    let deadLetters = 0;
    for (const ref of recovered.data) {
      const placed = this.placedGroups(ref, recovered.committed);
      if (placed) {
        // Past the budget the records stay in the log as references: no rows are built (and no
        // garbage made) until their partition flushes, however long the backlog.
        const dataset = DATASET_OF[ref.signal];
        for (const g of placed) {
          this.buffers.addSpilled(dataset, g.partition, g.rows, g.bytes, g.minTime, g.maxTime, ref.seq);
          records += g.rows;
        }
        this.options.wal!.track(ref.seq, placed.length);
        continue;
      }
      let groups: readonly PartitionGroup[] = [];
      let entry: DataEntry | undefined;
      try {
        entry = await wal.readData(ref.seq);
        const converted = this.convert(entry.signal, prepareRequest(entry.signal, entry.format, entry.body), entry.receivedNs);
        const dataset = DATASET_OF[entry.signal];
        groups = converted.groups.filter((g) => !recovered.committed.has(`${entry!.seq}|${dataset}/${g.partition}`));
      } catch (err) {
        // Never abort start-up on one entry: move it aside (or, without a place for it, say so).
        if (this.options.deadLetters) {
          if (entry) await this.options.deadLetters.entry(entry, err);
          else await this.options.deadLetters.unreadable(ref.seq, DATASET_OF[ref.signal], err);
          deadLetters++;
        } else this.options.logger.error({ err, seq: ref.seq }, 'write-ahead log entry could not be replayed');
      }
      for (const g of groups) records += g.batch.numRows;
      this.add(ref.signal, groups, ref.seq);
      entry = undefined;
    }
    return { requests: recovered.data.length, records, deadLetters };
  }

  /**
   * A recovered entry's groups not yet stored, when it can be buffered as references without
   * building its rows: its log entry says where its records went, under this partitioning, and
   * they would not fit under the spill budget anyway. Undefined: convert it (an older entry, a
   * changed partitioning, or room in memory).
   */
  private placedGroups(ref: RecoveredData, committed: ReadonlySet<string>): readonly GroupMeta[] | undefined {
    const placement = ref.placement;
    if (!placement || placement.placing !== this.options.partitioner.fingerprint || !this.buffers.canSpill) return undefined;
    const dataset = DATASET_OF[ref.signal];
    const groups = placement.groups.filter((g) => !committed.has(`${ref.seq}|${dataset}/${g.partition}`));
    const bytes = groups.reduce((n, g) => n + g.bytes, 0);
    return this.buffers.roomFor(bytes) ? undefined : groups;
  }

  /**
   * Removes the objects of flushes that never committed. A key the store can never hold (a name
   * too long for it) cannot exist, so it is skipped rather than stopping start-up; any other
   * failure (the store is down) still stops it, as replaying would then store rows twice.
   */
  private async deleteOrphans(keys: readonly string[], store: ObjectStore): Promise<void> {
    try {
      await store.delete(keys);
      return;
    } catch (err) {
      if (!isPermanentStoreFailure(err)) throw err;
    }
    for (const key of keys) {
      try {
        await store.delete([key]);
      } catch (err) {
        if (!isPermanentStoreFailure(err)) throw err;
        this.options.logger.warn({ key: key.slice(0, 300), err: (err as Error).message.slice(0, 300) }, 'orphan object of an unfinished flush cannot exist in this store; skipped');
      }
    }
  }

  /**
   * A flush the store refuses for good: its rows go to a dead-letter file, and the log records
   * them as done (an empty intent, committed), so neither retries nor a restart try them again.
   */
  private async discard(batch: FlushBatch, err: unknown): Promise<void> {
    await this.options.deadLetters!.flush(batch.dataset, batch.partition, batch.batches, err);
    const wal = this.options.wal;
    if (wal) {
      const flushId = await wal.intent(batch.dataset, batch.partition, batch.seqs, []);
      await wal.commit([...batch.priorFlushes, flushId], batch.seqs);
    }
  }

  /**
   * A spilled part comes back: its log entry is decoded again and this partition's group taken.
   * The same bytes, partitioner and received time give the same group. An entry that cannot give
   * it back — its segment damaged or deleted, its bytes no longer decodable, the group gone (the
   * configuration changed under a restart) — is a `SpillLostError`, dead-lettered by `spillLost`;
   * other read errors (EIO, EMFILE) are retried with the flush.
   */
  private async loadSpilled(seq: number, dataset: string, partition: string): Promise<RecordBatch> {
    let entry: DataEntry;
    try {
      entry = await this.options.wal!.readData(seq);
    } catch (err) {
      const gone = (err instanceof S3ParquetError && err.code === 'WAL_FAILED') || (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (gone) throw new SpillLostError(`write-ahead log entry ${seq} cannot be read back for ${dataset}/${partition}: ${(err as Error).message}`, undefined, { cause: err });
      throw err;
    }
    let group: PartitionGroup | undefined;
    try {
      const converted = this.convert(entry.signal, prepareRequest(entry.signal, entry.format, entry.body), entry.receivedNs);
      group = DATASET_OF[entry.signal] === dataset ? converted.groups.find((g) => g.partition === partition) : undefined;
    } catch (err) {
      throw new SpillLostError(`write-ahead log entry ${seq} no longer decodes: ${(err as Error).message}`, entry, { cause: err });
    }
    if (!group) throw new SpillLostError(`write-ahead log entry ${seq} no longer yields records for ${dataset}/${partition}`, entry);
    return group.batch;
  }

  /**
   * A spilled part that can never come back: moved to a dead letter (the entry's bytes when they
   * could be read, a note when not), and its group released in the log (an empty flush,
   * committed), so neither retries nor a restart try it again.
   */
  private async spillLost(seq: number, dataset: string, partition: string, rows: number, err: SpillLostError): Promise<void> {
    const spilled = { partition, records: rows };
    const entry = err.entry as DataEntry | undefined;
    if (entry) await this.options.deadLetters!.entry(entry, err, spilled);
    else await this.options.deadLetters!.unreadable(seq, dataset, err, spilled);
    const wal = this.options.wal!;
    const flushId = await wal.intent(dataset, partition, [seq], []);
    await wal.commit([flushId], [seq]);
  }

  /** Records (and their in-memory bytes) living only in the write-ahead log right now. */
  get spilledRows(): number {
    return this.buffers.spilledRows;
  }

  get spilledBytes(): number {
    return this.buffers.spilledBytes;
  }

  /** Seconds since the oldest record not yet in the store arrived (0 when nothing waits). */
  backlogAgeSeconds(): number {
    return this.buffers.bufferedRows === 0 ? 0 : Math.max(0, ((this.options.now ?? Date.now)() - this.buffers.oldestBufferedAt()) / 1000);
  }

  /** True while flushes are failing (store down); buffered data is retried with backoff. */
  get degraded(): boolean {
    return this.buffers.failing;
  }

  private convert(signal: Signal, request: unknown, receivedNs: bigint): ConvertedRequest {
    if (request instanceof WireRequest) {
      if (request.signal === 'logs') return convertLogsWire(request.body, this.options.partitioner, this.options.promoted.logs, receivedNs);
      if (request.signal === 'metrics') return convertMetricsWire(request.body, this.options.partitioner, this.options.promoted.metrics, receivedNs);
      return convertTracesWire(request.body, this.options.partitioner, this.options.promoted.traces, receivedNs);
    }
    switch (signal) {
      case 'traces':
        return convertTraces(request as ExportTraceServiceRequest, this.options.partitioner, this.options.promoted.traces, receivedNs);
      case 'logs':
        return convertLogs(request as ExportLogsServiceRequest, this.options.partitioner, this.options.promoted.logs, receivedNs);
      case 'metrics':
        return convertMetrics(request as ExportMetricsServiceRequest, this.options.partitioner, this.options.promoted.metrics, receivedNs);
    }
  }

  get bufferedRows(): number {
    return this.buffers.bufferedRows;
  }

  get bufferedBytes(): number {
    return this.buffers.bufferedBytes;
  }

  /** Buffered rows and bytes per dataset. */
  bufferedByDataset(): ReadonlyMap<string, { readonly rows: number; readonly bytes: number }> {
    return this.buffers.bufferedByDataset();
  }

  flush(): Promise<void> {
    return this.buffers.flushAll('manual');
  }

  /**
   * Stops accepting data and flushes everything. A flush that fails is retried a few times
   * with a growing pause; whatever still fails is reported, not silently dropped.
   */
  async close(attempts = 5): Promise<void> {
    if (this.closed) return this.buffers.idle();
    this.closed = true;
    this.buffers.stop();
    for (let i = 0; i < attempts; i++) {
      await this.buffers.flushAll(i === 0 ? 'shutdown' : 'retry');
      if (this.buffers.partitionCount === 0) return;
      await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
    this.options.logger.error({ rows: this.buffers.bufferedRows }, 'records could not be flushed at shutdown');
  }

  private async writeFlush(batch: FlushBatch, reason: FlushReason): Promise<void> {
    const started = performance.now();
    const wal = this.options.wal;
    let flushId: number | undefined;
    let files;
    try {
      files = await this.options.writer.write(batch, async (keys) => {
        if (wal) flushId = await wal.intent(batch.dataset, batch.partition, batch.seqs, keys);
      });
    } catch (err) {
      // Files this flush did store stay; the retry's commit must cover them too.
      if (err instanceof PartialFlushError && err.remaining.rows < batch.rows && flushId !== undefined) {
        throw new PartialFlushError({ ...err.remaining, priorFlushes: [...batch.priorFlushes, flushId] }, { cause: err.cause, stored: true });
      }
      throw err;
    }
    if (wal && flushId !== undefined) await wal.commit([...batch.priorFlushes, flushId], batch.seqs);
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    const ms = performance.now() - started;
    this.options.logger.info(
      {
        dataset: batch.dataset,
        partition: batch.partition,
        reason,
        rows: batch.rows,
        files: files.length,
        bytes,
        ratio: bytes > 0 ? Number((batch.bytes / bytes).toFixed(2)) : null,
        duration_ms: Math.round(ms),
      },
      'flushed',
    );
    for (const f of files) this.options.onFileWritten?.(f, batch);
    this.options.onFlush?.({
      dataset: batch.dataset, partition: batch.partition, reason, rows: batch.rows, files: files.length, rawBytes: batch.bytes, bytes, seconds: ms / 1000,
    });
  }
}
