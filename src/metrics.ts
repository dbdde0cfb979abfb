/**
 * The daemon's own metrics: one prom-client Registry per daemon (never the global one, so
 * several daemons in one process — tests, the library — keep separate counts), plus plain
 * running totals behind the library's `getWriteMetrics()`, `getReadMetrics()` and
 * `getS3Metrics()`.
 *
 * Nothing here is imported by the ingest or query stages: they report through hooks (the
 * receivers' `observer`, the pipeline's `onFlush`/`onFileWritten`, the stores' `onRequest`, the
 * query engine's `onQuery` and the query server's `onRequest`), which the daemon points here.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReceiverRequestEvent } from './receivers/observer.js';

export const DATASET_LABELS = ['traces', 'logs', 'metrics'] as const;
const SIGNALS = ['traces', 'logs', 'metrics'] as const;
const TRANSPORTS = ['grpc', 'http'] as const;

/** Library view of the write path. */
export interface WriteMetrics {
  /** Average duration of a flush (encode + store), ms. */
  readonly avgLatency: number;
  /** Records written per second since the daemon started. */
  readonly throughput: number;
  /** Arrow bytes in memory over Parquet bytes written, over every flush so far (0 before the first). */
  readonly compressionRatio: number;
  readonly filesWritten: number;
  readonly recordsWritten: number;
  readonly bytesWritten: number;
}

/** Library view of the query path. */
export interface ReadMetrics {
  /** Average duration of a query, ms. */
  readonly avgLatency: number;
  /** Records returned per second since the daemon started. */
  readonly throughput: number;
  readonly queries: number;
  readonly recordsReturned: number;
}

/** Library view of the object store's requests (S3, or the local directory's operations). */
export interface S3Metrics {
  readonly requestCount: number;
  readonly errorCount: number;
  /** Average request duration, ms (SDK retries included). */
  readonly avgLatency: number;
}

export interface BufferedCounts {
  readonly rows: number;
  readonly bytes: number;
  readonly byDataset: ReadonlyMap<string, { readonly rows: number; readonly bytes: number }>;
}

export interface MetricsOptions {
  /** Millisecond clock for throughput (tests). */
  readonly now?: () => number;
  /** Node's default process metrics (process_*, nodejs_*); on unless false. */
  readonly defaultMetrics?: boolean;
}

/**
 * The reason label of records refused inside an accepted request, from the partial-success
 * message (`span 2: invalid trace_id: …` → `invalid_trace_id`). The message names the first
 * refused record only, so a request's refusals all count under that record's reason.
 */
export function rejectReason(message: string): string {
  const invalid = /\binvalid ([a-z_]+)/.exec(message);
  if (invalid) return `invalid_${invalid[1]}`;
  if (/ has no data\b/.test(message)) return 'no_data';
  return 'invalid_record';
}

const ratio = (num: number, den: number): number => (den > 0 ? num / den : 0);

/** What the spill and backlog gauges show. */
export interface BacklogCounts {
  readonly spilledRows: number;
  readonly spilledBytes: number;
  readonly ageSeconds: number;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly startedAt: number;
  private buffered: () => BufferedCounts = () => ({ rows: 0, bytes: 0, byDataset: new Map() });
  private walBytes: () => number = () => 0;
  private backlog: () => BacklogCounts = () => ({ spilledRows: 0, spilledBytes: 0, ageSeconds: 0 });
  private readonly spilledRecordsC: Counter<'dataset'>;
  private readonly spilledBytesC: Counter<'dataset'>;
  private readonly drainedRecordsC: Counter<'dataset'>;
  private readonly walWriteErrors: Counter<'code'>;
  private queriesRunning: () => number = () => 0;
  private readonly queriesStopped: Counter<'reason'>;

  private readonly recordsReceived: Counter<'signal' | 'transport'>;
  private readonly recordsRejected: Counter<'signal' | 'reason'>;
  private readonly requests: Counter<'signal' | 'transport' | 'code'>;
  private readonly requestDuration: Histogram<'signal' | 'transport'>;
  private readonly filesWrittenC: Counter<'dataset'>;
  private readonly recordsWrittenC: Counter<'dataset'>;
  private readonly bytesWrittenC: Counter<'dataset'>;
  private readonly compression: Gauge<'dataset'>;
  private readonly flushDuration: Histogram<'dataset'>;
  private readonly storeRequests: Counter<'operation' | 'outcome'>;
  private readonly logAppendFailures: Counter<'dataset'>;
  private readonly deadLetters: Counter<'stage'>;
  private readonly deadLetterRecords: Counter<'stage' | 'dataset'>;
  private readonly partitionsRefused: Counter<'dataset'>;
  private readonly recordsRefusedForPartitions: Counter<'dataset'>;
  private readonly storeDuration: Histogram<'operation'>;
  private readonly queryDuration: Histogram<'route'>;
  private readonly compactions: Counter<'dataset' | 'outcome'>;
  private readonly compactionFiles: Counter<'dataset' | 'direction'>;
  private readonly compactionBytes: Counter<'dataset' | 'direction'>;
  private readonly compactionDuration: Histogram<'dataset'>;

  private readonly write = { flushes: 0, flushMs: 0, files: 0, records: 0, bytes: 0, rawBytes: 0, flushedBytes: 0 };
  private readonly read = { queries: 0, ms: 0, records: 0 };
  private readonly store = { requests: 0, errors: 0, ms: 0 };

  constructor(options: MetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });

    this.recordsReceived = new Counter({
      name: 's3parquet_records_received_total',
      help: 'Records (spans, log records, metric data points) in requests that decoded, accepted or refused one by one',
      labelNames: ['signal', 'transport'],
      registers,
    });
    this.recordsRejected = new Counter({
      name: 's3parquet_records_rejected_total',
      help: 'Records refused one by one inside an accepted request (OTLP partial success), by the reason of the first',
      labelNames: ['signal', 'reason'],
      registers,
    });
    this.requests = new Counter({
      name: 's3parquet_requests_total',
      help: 'OTLP requests answered, by HTTP status or gRPC status name',
      labelNames: ['signal', 'transport', 'code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 's3parquet_request_duration_seconds',
      help: 'Time to answer an OTLP request',
      labelNames: ['signal', 'transport'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const self = this;
    new Gauge({
      name: 's3parquet_buffered_records',
      help: 'Records held in memory, not yet in the store (a flush in progress included)',
      labelNames: ['dataset'],
      registers,
      collect() {
        const by = self.buffered().byDataset;
        for (const dataset of new Set<string>([...DATASET_LABELS, ...by.keys()])) this.set({ dataset }, by.get(dataset)?.rows ?? 0);
      },
    });
    new Gauge({
      name: 's3parquet_buffered_bytes',
      help: 'Arrow bytes held in memory, not yet in the store',
      registers,
      collect() {
        this.set(self.buffered().bytes);
      },
    });
    this.filesWrittenC = new Counter({ name: 's3parquet_files_written_total', help: 'Parquet files stored', labelNames: ['dataset'], registers });
    this.recordsWrittenC = new Counter({ name: 's3parquet_records_written_total', help: 'Records stored in Parquet files', labelNames: ['dataset'], registers });
    this.bytesWrittenC = new Counter({ name: 's3parquet_bytes_written_total', help: 'Parquet bytes stored', labelNames: ['dataset'], registers });
    this.compression = new Gauge({
      name: 's3parquet_compression_ratio',
      help: 'Arrow bytes in memory over Parquet bytes written, of the last flush',
      labelNames: ['dataset'],
      registers,
    });
    this.flushDuration = new Histogram({
      name: 's3parquet_flush_duration_seconds',
      help: 'Time to encode and store one flush',
      labelNames: ['dataset'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.storeRequests = new Counter({
      name: 's3parquet_store_requests_total',
      help: 'Object store operations (S3 requests, SDK retries included, or local file operations)',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.storeDuration = new Histogram({
      name: 's3parquet_store_request_duration_seconds',
      help: 'Object store operation duration',
      labelNames: ['operation'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    new Gauge({
      name: 's3parquet_spilled_records',
      help: 'Buffered records that live only in the write-ahead log now (spilled beyond the memory budget; re-read when their partition flushes)',
      registers,
      collect() {
        this.set(self.backlog().spilledRows);
      },
    });
    new Gauge({
      name: 's3parquet_spilled_bytes',
      help: 'In-memory (Arrow) bytes of the records spilled now',
      registers,
      collect() {
        this.set(self.backlog().spilledBytes);
      },
    });
    new Gauge({
      name: 's3parquet_backlog_age_seconds',
      help: 'Age of the oldest record not yet stored (0 when nothing waits); the spilled backlog drains at rate(s3parquet_drained_records_total)',
      registers,
      collect() {
        this.set(self.backlog().ageSeconds);
      },
    });
    this.spilledRecordsC = new Counter({
      name: 's3parquet_spilled_records_total',
      help: 'Records that left memory for the write-ahead log (a record spilled again after a failed flush counts again)',
      labelNames: ['dataset'],
      registers,
    });
    this.spilledBytesC = new Counter({
      name: 's3parquet_spilled_bytes_total',
      help: 'In-memory bytes of the records counted by s3parquet_spilled_records_total',
      labelNames: ['dataset'],
      registers,
    });
    this.drainedRecordsC = new Counter({
      name: 's3parquet_drained_records_total',
      help: 'Spilled records stored after being read back from the write-ahead log: rate() of it is the backlog\'s drain rate',
      labelNames: ['dataset'],
      registers,
    });
    this.walWriteErrors = new Counter({
      name: 's3parquet_wal_write_errors_total',
      help: 'Failed write-ahead-log writes by error code (ENOSPC: the disk is full); the requests were refused retryably',
      labelNames: ['code'],
      registers,
    });
    new Gauge({
      name: 's3parquet_wal_bytes',
      help: 'Bytes in the write-ahead log',
      registers,
      collect() {
        this.set(self.walBytes());
      },
    });
    this.queryDuration = new Histogram({
      name: 's3parquet_query_duration_seconds',
      help: 'Time to answer a query-port API request',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });

    new Gauge({
      name: 's3parquet_queries_running',
      help: 'Queries admitted on the query port and not finished (running on a worker or waiting for one)',
      registers,
      collect() {
        this.set(self.queriesRunning());
      },
    });
    this.queriesStopped = new Counter({
      name: 's3parquet_queries_stopped_total',
      help: 'Queries refused or stopped before their end, by reason (rejected: 429; client_closed, abandoned, timeout, memory, error); their workers were freed',
      labelNames: ['reason'],
      registers,
    });

    this.logAppendFailures = new Counter({
      name: 's3parquet_write_log_append_failures_total',
      help: 'Write log entries the store refused (kept and retried; queries list partitions meanwhile)',
      labelNames: ['dataset'],
      registers,
    });

    this.deadLetters = new Counter({
      name: 's3parquet_dead_letters_total',
      help: 'Dead-letter files written next to the write-ahead log (stage: replay = a log entry that no longer decodes, flush = rows the store refuses for good, spill = a spilled log entry that no longer yields its records at its flush)',
      labelNames: ['stage'],
      registers,
    });
    this.deadLetterRecords = new Counter({
      name: 's3parquet_dead_letter_records_total',
      help: 'Records moved to dead-letter files (replayed entries that no longer decode count 0: their records are unknown)',
      labelNames: ['stage', 'dataset'],
      registers,
    });
    this.partitionsRefused = new Counter({
      name: 's3parquet_partitions_refused_total',
      help: 'New partitions refused because [buffer] max_partitions were already buffered (their records are refused retryably)',
      labelNames: ['dataset'],
      registers,
    });
    this.recordsRefusedForPartitions = new Counter({
      name: 's3parquet_partition_cap_records_refused_total',
      help: 'Records refused because their partition would exceed [buffer] max_partitions',
      labelNames: ['dataset'],
      registers,
    });
    for (const stage of ['replay', 'flush', 'spill']) this.deadLetters.inc({ stage }, 0);
    this.compactions = new Counter({ name: 's3parquet_compactions_total', help: 'Partition compactions, by outcome (merged, failed)', labelNames: ['dataset', 'outcome'], registers });
    this.compactionFiles = new Counter({ name: 's3parquet_compaction_files_total', help: 'Files a compaction replaced (in) and wrote (out)', labelNames: ['dataset', 'direction'], registers });
    this.compactionBytes = new Counter({ name: 's3parquet_compaction_bytes_total', help: 'Parquet bytes a compaction replaced (in) and wrote (out)', labelNames: ['dataset', 'direction'], registers });
    this.compactionDuration = new Histogram({
      name: 's3parquet_compaction_duration_seconds',
      help: 'Duration of one partition compaction (read, merge, upload, swap)',
      labelNames: ['dataset'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1200],
      registers,
    });
    for (const dataset of DATASET_LABELS) for (const outcome of ['merged', 'failed']) this.compactions.inc({ dataset, outcome }, 0);

    // Series that exist from the start read 0 rather than being absent.
    for (const signal of SIGNALS) for (const transport of TRANSPORTS) this.recordsReceived.inc({ signal, transport }, 0);
    for (const dataset of DATASET_LABELS) {
      this.filesWrittenC.inc({ dataset }, 0);
      this.recordsWrittenC.inc({ dataset }, 0);
      this.bytesWrittenC.inc({ dataset }, 0);
      this.logAppendFailures.inc({ dataset }, 0);
    }
  }

  /** Where the buffered gauges read from (the pipeline), at scrape time. */
  setBufferSource(source: () => BufferedCounts): void {
    this.buffered = source;
  }

  /** Where `s3parquet_queries_running` reads from, at scrape time; 0 until set. */
  setQueriesRunningSource(source: () => number): void {
    this.queriesRunning = source;
  }

  /** A query refused or stopped early (the query pool's `onStop`). */
  observeQueryStopped(reason: string): void {
    this.queriesStopped.inc({ reason });
  }

  /** Where the spill and backlog gauges read from, at scrape time. */
  setBacklogSource(source: () => BacklogCounts): void {
    this.backlog = source;
  }

  observeSpill(dataset: string, records: number, bytes: number): void {
    this.spilledRecordsC.inc({ dataset }, records);
    this.spilledBytesC.inc({ dataset }, bytes);
  }

  observeDrained(dataset: string, records: number): void {
    this.drainedRecordsC.inc({ dataset }, records);
  }

  observeWalWriteError(code: string): void {
    this.walWriteErrors.inc({ code });
  }

  /** Where `s3parquet_wal_bytes` reads from, at scrape time; 0 until set. */
  setWalBytesSource(source: () => number): void {
    this.walBytes = source;
  }

  // ---- hooks --------------------------------------------------------------

  observeDeadLetter(stage: 'replay' | 'flush' | 'spill', dataset: string, records: number): void {
    this.deadLetters.inc({ stage });
    this.deadLetterRecords.inc({ stage, dataset }, records);
  }

  observePartitionsRefused(dataset: string, partitions: number, records: number): void {
    this.partitionsRefused.inc({ dataset }, partitions);
    this.recordsRefusedForPartitions.inc({ dataset }, records);
  }

  observeRequest(e: ReceiverRequestEvent): void {
    const signal = e.signal ?? 'unknown';
    this.requests.inc({ signal, transport: e.transport, code: e.code });
    this.requestDuration.observe({ signal, transport: e.transport }, e.seconds);
    const records = e.accepted + e.rejected;
    if (records > 0) this.recordsReceived.inc({ signal, transport: e.transport }, records);
    if (e.rejected > 0) this.recordsRejected.inc({ signal, reason: rejectReason(e.rejectMessage) }, e.rejected);
  }

  /** One partition compaction: merged (files and bytes in and out) or failed. */
  observeCompaction(e: { readonly dataset: string; readonly ok: boolean; readonly seconds: number; readonly filesIn?: number; readonly filesOut?: number; readonly bytesIn?: number; readonly bytesOut?: number }): void {
    const dataset = e.dataset;
    this.compactions.inc({ dataset, outcome: e.ok ? 'merged' : 'failed' });
    this.compactionDuration.observe({ dataset }, e.seconds);
    if (!e.ok) return;
    this.compactionFiles.inc({ dataset, direction: 'in' }, e.filesIn ?? 0);
    this.compactionFiles.inc({ dataset, direction: 'out' }, e.filesOut ?? 0);
    this.compactionBytes.inc({ dataset, direction: 'in' }, e.bytesIn ?? 0);
    this.compactionBytes.inc({ dataset, direction: 'out' }, e.bytesOut ?? 0);
  }

  /** A write log append the store refused. */
  observeLogAppendFailure(dataset: string): void {
    this.logAppendFailures.inc({ dataset });
  }

  /** One stored file. */
  observeFile(dataset: string, rows: number, bytes: number): void {
    this.filesWrittenC.inc({ dataset });
    this.recordsWrittenC.inc({ dataset }, rows);
    this.bytesWrittenC.inc({ dataset }, bytes);
    this.write.files++;
    this.write.records += rows;
    this.write.bytes += bytes;
  }

  /** One completed flush: Arrow bytes in, Parquet bytes out, duration. */
  observeFlush(dataset: string, rawBytes: number, bytes: number, seconds: number): void {
    if (bytes > 0) this.compression.set({ dataset }, rawBytes / bytes);
    this.flushDuration.observe({ dataset }, seconds);
    this.write.flushes++;
    this.write.flushMs += seconds * 1000;
    this.write.rawBytes += rawBytes;
    this.write.flushedBytes += bytes;
  }

  observeStoreRequest(operation: string, ok: boolean, ms: number): void {
    this.storeRequests.inc({ operation, outcome: ok ? 'success' : 'error' });
    this.storeDuration.observe({ operation }, ms / 1000);
    this.store.requests++;
    if (!ok) this.store.errors++;
    this.store.ms += ms;
  }

  /** One query-port API request (any outcome). */
  observeQueryRequest(route: string, seconds: number): void {
    this.queryDuration.observe({ route }, seconds);
  }

  /** One query the engine ran to its end (or its limit). */
  observeQuery(rowsReturned: number, elapsedMs: number): void {
    this.read.queries++;
    this.read.records += rowsReturned;
    this.read.ms += elapsedMs;
  }

  // ---- library API ----------------------------------------------------------

  private uptimeSeconds(): number {
    return Math.max(0.001, (this.now() - this.startedAt) / 1000);
  }

  getWriteMetrics(): WriteMetrics {
    const w = this.write;
    return {
      avgLatency: ratio(w.flushMs, w.flushes),
      throughput: w.records / this.uptimeSeconds(),
      compressionRatio: ratio(w.rawBytes, w.flushedBytes),
      filesWritten: w.files,
      recordsWritten: w.records,
      bytesWritten: w.bytes,
    };
  }

  getReadMetrics(): ReadMetrics {
    const r = this.read;
    return { avgLatency: ratio(r.ms, r.queries), throughput: r.records / this.uptimeSeconds(), queries: r.queries, recordsReturned: r.records };
  }

  getS3Metrics(): S3Metrics {
    const s = this.store;
    return { requestCount: s.requests, errorCount: s.errors, avgLatency: ratio(s.ms, s.requests) };
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
