/**
 * The storage layouts of the datasets (src/schema/*: sort order and per-column encodings) name
 * real top-level columns with encodings that fit their types, and change bytes only: a file
 * written with them reads back — with hyparquet (our query port) and with DuckDB — exactly like
 * one written with the writer's defaults.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, type RecordBatch } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRequest, type Signal } from '../../src/otlp/decode.js';
import { otlpTypes } from '../../src/otlp/proto-root.js';
import { encodeParquet, type ParquetWriterOptions } from '../../src/parquet/writer.js';
import { convertLogs } from '../../src/pipeline/convert-logs.js';
import { convertMetrics } from '../../src/pipeline/convert-metrics.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { PARSERS } from '../../src/parquet/source.js';
import { DATASETS, DATASET_NAMES } from '../../src/schema/datasets.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import type { ColumnEncoding } from '../../src/parquet/storage-layout.js';
import { duckdbQuery } from '../helpers/duckdb.js';

const PROMOTED = ['http.request.method', 'http.response.status_code', 'url.path'].map(parsePromoted);
const T0_MS = Date.UTC(2024, 0, 1);
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const int = (key: string, v: number) => ({ key, value: { intValue: v } });

/** Deterministic pseudo-random numbers (no flaky data). */
function numbers(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

function id(r: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
}

function time(r: () => number): string {
  return (BigInt(T0_MS + Math.floor(r() * 3_600_000)) * 1_000_000n + BigInt(Math.floor(r() * 1e6))).toString();
}

function tracesRequest(r: () => number): Uint8Array {
  const spans = Array.from({ length: 200 }, (_, i) => {
    const start = time(r);
    return {
      traceId: id(r, 16),
      spanId: id(r, 8),
      ...(i % 3 ? { parentSpanId: id(r, 8) } : {}),
      name: `op${i % 4}`,
      kind: 2,
      startTimeUnixNano: start,
      endTimeUnixNano: (BigInt(start) + BigInt(Math.floor(r() * 1e7))).toString(),
      attributes: [str('http.request.method', 'GET'), int('http.response.status_code', i % 7 ? 200 : 500), str('app.id', id(r, 4).toString('hex'))],
      events: i % 5 ? [] : [{ timeUnixNano: start, name: 'e', attributes: [int('n', i)] }],
    };
  });
  const type = otlpTypes().ExportTraceServiceRequest;
  return type.encode(type.fromObject({ resourceSpans: [{ resource: { attributes: [str('service.name', 'svc')] }, scopeSpans: [{ scope: { name: 's' }, spans }] }] })).finish();
}

function logsRequest(r: () => number): Uint8Array {
  const resourceLogs = ['web', 'api'].map((service) => ({
    resource: { attributes: [str('service.name', service)] },
    scopeLogs: [{
      scope: { name: 's' },
      logRecords: Array.from({ length: 100 }, (_, i) => ({
        ...(i % 9 ? { timeUnixNano: time(r) } : {}),
        observedTimeUnixNano: time(r),
        severityNumber: 9,
        body: { stringValue: `message ${Math.floor(r() * 50)}` },
        ...(i % 4 ? { traceId: id(r, 16), spanId: id(r, 8) } : {}),
        attributes: [str('k', `v${i % 3}`)],
      })),
    }],
  }));
  const type = otlpTypes().ExportLogsServiceRequest;
  return type.encode(type.fromObject({ resourceLogs })).finish();
}

function metricsRequest(r: () => number): Uint8Array {
  const points = (f: (i: number) => Record<string, unknown>) =>
    Array.from({ length: 60 }, (_, i) => ({ timeUnixNano: time(r), attributes: [str('route', `/r${i % 4}`)], ...f(i) }));
  const metrics = [
    { name: 'c', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: points((i) => ({ asInt: String(i * 1000 + Math.floor(r() * 100)) })) } },
    { name: 'g', gauge: { dataPoints: points(() => ({ asDouble: 1e6 * r() })) } },
    { name: 'h', histogram: { aggregationTemporality: 1, dataPoints: points(() => ({ count: 3, sum: 1.5, bucketCounts: [1, 2], explicitBounds: [1] })) } },
  ];
  const type = otlpTypes().ExportMetricsServiceRequest;
  return type.encode(type.fromObject({ resourceMetrics: [{ resource: { attributes: [str('service.name', 'svc')] }, scopeMetrics: [{ scope: { name: 's' }, metrics }] }] })).finish();
}

function batchesOf(signal: Signal): RecordBatch[] {
  const r = numbers(signal.length);
  const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
  const body = signal === 'traces' ? tracesRequest(r) : signal === 'logs' ? logsRequest(r) : metricsRequest(r);
  const decoded = decodeRequest(signal, 'protobuf', body);
  const converted =
    signal === 'traces'
      ? convertTraces(decoded as never, partitioner, PROMOTED)
      : signal === 'logs'
        ? convertLogs(decoded as never, partitioner, PROMOTED, 1n)
        : convertMetrics(decoded as never, partitioner, []);
  return converted.groups.map((g) => g.batch);
}

const BASE: ParquetWriterOptions = { compression: 'ZSTD', rowGroupSize: 100_000, pageSize: 1 << 20, dictionaryEnabled: true, statisticsEnabled: true };

function fits(encoding: ColumnEncoding, type: DataType): boolean {
  switch (encoding) {
    case 'DELTA_BINARY_PACKED':
      return DataType.isInt(type) || DataType.isTimestamp(type);
    case 'DELTA_LENGTH_BYTE_ARRAY':
    case 'DELTA_BYTE_ARRAY':
      return DataType.isUtf8(type) || DataType.isBinary(type);
    case 'BYTE_STREAM_SPLIT':
      return DataType.isFloat(type);
    case 'PLAIN':
      return true;
  }
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-layout-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dataset storage layouts', () => {
  for (const name of DATASET_NAMES) {
    const spec = DATASETS[name];

    it(`${name}: sort and encoding columns are top-level columns of a type the encoding fits`, () => {
      const schema = spec.schema(PROMOTED);
      const byName = new Map(schema.fields.map((f) => [f.name, f.type as DataType]));
      for (const c of spec.storage.sortBy) expect(byName.has(c), c).toBe(true);
      for (const [c, encoding] of Object.entries(spec.storage.encodings)) {
        expect(byName.has(c), c).toBe(true);
        expect(fits(encoding, byName.get(c)!), `${c}: ${encoding} on ${String(byName.get(c))}`).toBe(true);
      }
    });

    it(`${name}: a file written with the layout reads back like one written with the defaults`, async () => {
      const sorted = [sortBatches(batchesOf(name), spec.storage.sortBy)];
      const plain = encodeParquet(sorted, new Map(), BASE);
      const tuned = encodeParquet(sorted, new Map(), { ...BASE, columnEncodings: spec.storage.encodings });

      const meta = parquetMetadata(arrayBuffer(tuned));
      for (const [c, encoding] of Object.entries(spec.storage.encodings)) {
        const chunk = meta.row_groups[0]!.columns.find((cc) => cc.meta_data!.path_in_schema.join('.') === c)!;
        expect(chunk.meta_data!.encodings, c).toContain(encoding);
        expect(chunk.meta_data!.encodings, c).not.toContain('RLE_DICTIONARY');
      }

      const read = (bytes: Uint8Array) => parquetReadObjects({ file: arrayBuffer(bytes), compressors, parsers: PARSERS, utf8: true });
      const [a, b] = await Promise.all([read(plain), read(tuned)]);
      expect(b.length).toBe(sorted[0]!.numRows);
      expect(b).toEqual(a);

      await writeFile(join(dir, `${name}-plain.parquet`), plain);
      await writeFile(join(dir, `${name}-tuned.parquet`), tuned);
      const sql = (f: string) => duckdbQuery(`SELECT * FROM read_parquet('${join(dir, f)}')`);
      const [x, y] = await Promise.all([sql(`${name}-plain.parquet`), sql(`${name}-tuned.parquet`)]);
      expect(y).toEqual(x);
    });
  }
});
