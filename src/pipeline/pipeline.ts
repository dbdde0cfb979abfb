/**
 * The transport-agnostic ingest path: decoded OTLP request → batches per partition →
 * buffers → Parquet files in the store. Both receivers call `export`; nothing here knows
 * about HTTP or gRPC.
 */
import type { Logger } from 'pino';
import { S3ParquetError } from '../errors.js';
import type { Signal } from '../otlp/json-ids.js';
import type { ExportLogsServiceRequest, ExportTraceServiceRequest } from '../otlp/types.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { LOGS_SCHEMA_VERSION } from '../schema/logs.js';
import { METRICS_SCHEMA_VERSION } from '../schema/metrics.js';
import type { ExportMetricsServiceRequest } from '../otlp/metric-types.js';
import { TRACES_SCHEMA_VERSION } from '../schema/traces.js';
import { BufferManager, type BufferLimits, type FlushBatch, type FlushReason } from './buffers.js';
import { convertLogs } from './convert-logs.js';
import { convertMetrics } from './convert-metrics.js';
import { convertTraces } from './convert-traces.js';
import type { ConvertedRequest } from './converted.js';
import type { FileWriter, WrittenFile } from './file-writer.js';
import type { Partitioner } from './partitioner.js';

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
    );
    this.buffers.start();
  }

  /** Signals this pipeline can store (the others answer 404 / UNIMPLEMENTED). */
  supports(signal: Signal): boolean {
    return signal in DATASET_OF;
  }

  export(signal: Signal, request: unknown): ExportResult {
    if (this.closed) throw new S3ParquetError('SHUTTING_DOWN', 'the daemon is shutting down; retry against another instance');
    const converted = this.convert(signal, request);
    const dataset = DATASET_OF[signal];
    for (const g of converted.groups) this.buffers.add(dataset, g.partition, g.batch, g.bytes, g.minTime, g.maxTime);
    return { accepted: converted.accepted, rejected: converted.rejected, errorMessage: converted.errorMessage };
  }

  private convert(signal: Signal, request: unknown): ConvertedRequest {
    switch (signal) {
      case 'traces':
        return convertTraces(request as ExportTraceServiceRequest, this.options.partitioner, this.options.promoted.traces);
      case 'logs': {
        const receivedNs = BigInt(Math.round((this.options.now ?? Date.now)() * 1000)) * 1000n;
        return convertLogs(request as ExportLogsServiceRequest, this.options.partitioner, this.options.promoted.logs, receivedNs);
      }
      case 'metrics':
        return convertMetrics(request as ExportMetricsServiceRequest, this.options.partitioner, this.options.promoted.metrics);
    }
  }

  get bufferedRows(): number {
    return this.buffers.bufferedRows;
  }

  get bufferedBytes(): number {
    return this.buffers.bufferedBytes;
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
    const files = await this.options.writer.write(batch);
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    this.options.logger.info(
      {
        dataset: batch.dataset,
        partition: batch.partition,
        reason,
        rows: batch.rows,
        files: files.length,
        bytes,
        ratio: bytes > 0 ? Number((batch.bytes / bytes).toFixed(2)) : null,
        ms: Math.round(performance.now() - started),
      },
      'flushed',
    );
    for (const f of files) this.options.onFileWritten?.(f, batch);
  }
}
