/**
 * Bytes per record, in one run over the same records: what users store today with the OTel
 * Collector's S3 exporter (OTLP protobuf + gzip, + zstd, OTLP/JSON + gzip; one object per
 * request batch) against our Parquet with each codec.
 */
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from '@bokuweb/zstd-wasm';
import { loadZstdWasm } from '../src/parquet/zstd-wasm.js';
import type { RecordBatch } from 'apache-arrow';
import { decodeRequest, type Signal } from '../src/otlp/decode.js';
import { otlpTypes } from '../src/otlp/proto-root.js';
import { encodeParquet, chunkBatches, layoutWriterOptions, MAX_ROWS_PER_FILE, type CompressionName } from '../src/parquet/writer.js';
import { convertLogs } from '../src/pipeline/convert-logs.js';
import { convertMetrics } from '../src/pipeline/convert-metrics.js';
import { convertTraces } from '../src/pipeline/convert-traces.js';
import { Partitioner } from '../src/pipeline/partitioner.js';
import { sortBatches } from '../src/pipeline/sort.js';
import { defaultConfig } from '../src/config/index.js';
import { DATASETS, promotedSpecs } from '../src/schema/datasets.js';

const CODECS: CompressionName[] = ['ZSTD', 'SNAPPY', 'GZIP', 'LZ4', 'UNCOMPRESSED'];
// The daemon's defaults per dataset: promoted attributes and (schema version 2) dedicated resource columns.
const DEFAULT_PROMOTED = promotedSpecs(defaultConfig());

export interface StorageResult {
  signal: Signal;
  records: number;
  bytesPerRecord: Record<string, number>;
  /** Parquet ZSTD over OTLP protobuf + zstd (the target ratio). */
  parquetZstdVsOtlpZstd: number;
}

function typeFor(signal: Signal) {
  const t = otlpTypes();
  return signal === 'traces' ? t.ExportTraceServiceRequest : signal === 'logs' ? t.ExportLogsServiceRequest : t.ExportMetricsServiceRequest;
}

/** OTLP/JSON as the spec writes it: camelCase, hex ids, 64-bit integers as strings. */
function toOtlpJson(signal: Signal, body: Uint8Array): string {
  const type = typeFor(signal);
  const obj = type.toObject(type.decode(body), { longs: String, enums: Number, bytes: String });
  return JSON.stringify(obj, (key, v: unknown) => (typeof v === 'string' && /(traceId|spanId|parentSpanId)$/.test(key) ? Buffer.from(v, 'base64').toString('hex') : v));
}

export async function benchStorage(signal: Signal, payloads: readonly Uint8Array[], recordsPerPayload: number): Promise<StorageResult> {
  await loadZstdWasm(); // the process's one loader (a second init() corrupts calls in flight)
  const records = payloads.length * recordsPerPayload;
  const sizes: Record<string, number> = { 'otlp-protobuf-raw': 0, 'otlp-protobuf+gzip': 0, 'otlp-protobuf+zstd': 0, 'otlp-json+gzip': 0 };
  for (const p of payloads) {
    sizes['otlp-protobuf-raw']! += p.length;
    sizes['otlp-protobuf+gzip']! += gzipSync(p).length;
    sizes['otlp-protobuf+zstd']! += zstdCompress(Buffer.from(p), 3).length;
    sizes['otlp-json+gzip']! += gzipSync(toOtlpJson(signal, p)).length;
  }
  // One partition for all (storage is about encoding, not layout).
  const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
  let batches: RecordBatch[] = [];
  for (const p of payloads) {
    const decoded = decodeRequest(signal, 'protobuf', p);
    const converted =
      signal === 'traces'
        ? convertTraces(decoded as never, partitioner, DEFAULT_PROMOTED.traces)
        : signal === 'logs'
          ? convertLogs(decoded as never, partitioner, DEFAULT_PROMOTED.logs, 0n)
          : convertMetrics(decoded as never, partitioner, DEFAULT_PROMOTED.metrics);
    for (const g of converted.groups) batches.push(g.batch);
  }
  // The daemon's defaults: each dataset's row order, column encodings, row groups, pages and
  // write batches, combined with `[parquet]` as the daemon's flushes do (src/schema/). Until
  // 2026-11-30 this used 100,000-row groups and 1 MiB pages for every dataset, so its traces
  // figure was ~7 % below the files the daemon writes (4 KiB pages then).
  const layout = DATASETS[signal].storage;
  const parquet = defaultConfig().parquet;
  if (layout.sortBy.length > 0) batches = [sortBatches(batches, layout.sortBy)];
  for (const codec of CODECS) {
    let bytes = 0;
    for (const chunk of chunkBatches(batches, MAX_ROWS_PER_FILE)) {
      const base = { compression: codec, rowGroupSize: parquet.row_group_size, pageSize: parquet.page_size, dictionaryEnabled: true, statisticsEnabled: true };
      bytes += encodeParquet(chunk, new Map(), layoutWriterOptions(base, layout)).length;
    }
    sizes[`parquet-${codec.toLowerCase()}`] = bytes;
  }
  const bytesPerRecord = Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, +(v / records).toFixed(1)]));
  return { signal, records, bytesPerRecord, parquetZstdVsOtlpZstd: +(sizes['parquet-zstd']! / sizes['otlp-protobuf+zstd']!).toFixed(3) };
}
