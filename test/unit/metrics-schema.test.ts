/**
 * The `metrics` dataset v1 end to end below the receivers: a hand-made request goes through a
 * real protobuf encode/decode (so optional-field presence is what a client's bytes produce),
 * the converter, the Parquet writer, and is read back by DuckDB as an independent reader.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { otlpTypes } from '../../src/otlp/proto-root.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/metric-types.js';
import { encodeParquet } from '../../src/parquet/writer.js';
import { convertMetrics } from '../../src/pipeline/convert-metrics.js';
import type { ConvertedRequest } from '../../src/pipeline/converted.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { metricsSchema } from '../../src/schema/metrics.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { duckdbQuery, type Row } from '../helpers/duckdb.js';

const T0 = 1_700_000_000_123_456_789n; // 2023-11-14T22:13:20.123456789Z
const ns = (offsetSeconds: number): string => String(T0 + BigInt(offsetSeconds) * 1_000_000_000n);
const TRACE = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
const SPAN = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });

function request(): Record<string, unknown> {
  return {
    resourceMetrics: [{
      resource: { attributes: [str('service.name', 'checkout'), str('host.name', 'h1')] },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeMetrics: [{
        scope: { name: 'meter-lib', version: '1.2.3' },
        metrics: [
          { name: 'queue.length', description: 'Items waiting', unit: '{item}', metadata: [str('source', 'sdk')], gauge: { dataPoints: [
            // 2^53 + 1: only value_int keeps it exact.
            { timeUnixNano: ns(0), asInt: '9007199254740993', attributes: [str('queue', 'orders'), { key: 'http.response.status_code', value: { intValue: 200 } }] },
            { timeUnixNano: ns(1), flags: 1 },
          ] } },
          { name: 'requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{
            timeUnixNano: ns(2), startTimeUnixNano: ns(-60), asDouble: 12.5,
            exemplars: [
              { timeUnixNano: ns(1), asDouble: 0.25, traceId: TRACE, spanId: SPAN, filteredAttributes: [str('user', 'u1')] },
              { timeUnixNano: ns(1), asInt: 7 },
            ],
          }] } },
          { name: 'latency', unit: 'ms', histogram: { aggregationTemporality: 1, dataPoints: [
            { timeUnixNano: ns(3), count: 6, sum: 12.5, min: 0, max: 7.5, bucketCounts: [1, 2, 3], explicitBounds: [1, 5],
              exemplars: [{ timeUnixNano: ns(3), asDouble: 4, traceId: TRACE, spanId: SPAN }] },
            { timeUnixNano: ns(4), count: 2, bucketCounts: [2] },
          ] } },
          { name: 'size', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [
            { timeUnixNano: ns(5), count: 10, sum: -3.5, min: -10, max: 20, scale: -2, zeroCount: 1, zeroThreshold: 0.001,
              positive: { offset: 3, bucketCounts: [4, 1] }, negative: { offset: -2, bucketCounts: [1, 0, 3] } },
            { timeUnixNano: ns(6), count: 1, scale: 5, positive: { offset: 0, bucketCounts: [1] } },
          ] } },
          { name: 'rpc.duration', summary: { dataPoints: [
            { timeUnixNano: ns(3600), count: 4, sum: 10, quantileValues: [{ quantile: 0, value: 0.5 }, { quantile: 0.5, value: 2 }, { quantile: 1, value: 5 }] },
          ] } },
          { name: 'bad', gauge: { dataPoints: [{ timeUnixNano: ns(7), asDouble: 1, exemplars: [{ traceId: Buffer.from([1, 2, 3]) }] }] } },
          { name: 'empty' },
        ],
      }],
    }],
  };
}

/** Protobuf bytes and back, as a receiver sees them. */
function decoded(): ExportMetricsServiceRequest {
  const T = otlpTypes().ExportMetricsServiceRequest;
  return T.decode(T.encode(T.fromObject(request())).finish()) as unknown as ExportMetricsServiceRequest;
}

const parseJson = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

describe('metrics dataset v1', () => {
  let dir: string;
  let converted: ConvertedRequest;
  let rows: Row[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-metrics-'));
    const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
    converted = convertMetrics(decoded(), partitioner, [parsePromoted('http.response.status_code')]);
    const options = { compression: 'ZSTD', rowGroupSize: 1000, pageSize: 1 << 20, dictionaryEnabled: true, statisticsEnabled: true } as const;
    for (const g of converted.groups) {
      await mkdir(join(dir, g.partition), { recursive: true });
      await writeFile(join(dir, g.partition, 'part.parquet'), encodeParquet([g.batch], new Map(), options));
    }
    rows = await duckdbQuery(`
      SELECT date, hour::VARCHAR AS hour, epoch_ns(time)::VARCHAR AS time, epoch_ns(start_time)::VARCHAR AS start_time,
        metric_name, metric_description, metric_unit, to_json(metric_metadata) AS metric_metadata, metric_type,
        aggregation_temporality, is_monotonic, value, value_is_int, value_int::VARCHAR AS value_int, count::VARCHAR AS count,
        sum, min, max, to_json(bucket_counts) AS bucket_counts, to_json(explicit_bounds) AS explicit_bounds,
        exp_scale, exp_zero_count::VARCHAR AS exp_zero_count, exp_zero_threshold,
        exp_positive_offset, to_json(exp_positive_bucket_counts) AS exp_positive_bucket_counts,
        exp_negative_offset, to_json(exp_negative_bucket_counts) AS exp_negative_bucket_counts,
        to_json(quantiles) AS quantiles,
        to_json(list_transform(exemplars, lambda e: {'time': epoch_ns(e.time)::VARCHAR, 'value': e.value,
          'value_is_int': e.value_is_int, 'trace_id': e.trace_id, 'span_id': e.span_id,
          'filtered_attributes': e.filtered_attributes})) AS exemplars,
        flags::VARCHAR AS flags, service_name, to_json(resource_attributes) AS resource_attributes, resource_schema_url,
        scope_name, scope_version, to_json(attributes) AS attributes, http_response_status_code::VARCHAR AS status
      FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true)
      ORDER BY time`);
    for (const r of rows) {
      for (const k of ['metric_metadata', 'bucket_counts', 'explicit_bounds', 'exp_positive_bucket_counts', 'exp_negative_bucket_counts', 'quantiles', 'exemplars', 'resource_attributes', 'attributes']) {
        r[k] = parseJson(r[k]);
      }
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exposes proto3 optional presence as null through protobufjs', () => {
    const metrics = decoded().resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    const [withStats, without] = metrics[2]!.histogram!.dataPoints;
    expect([withStats!.sum, withStats!.min, withStats!.max]).toEqual([12.5, 0, 7.5]);
    expect([without!.sum, without!.min, without!.max]).toEqual([null, null, null]);
    expect(metrics[3]!.exponentialHistogram!.dataPoints[1]!.negative).toBeNull();
    expect(metrics.map((m) => m.data)).toEqual(['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary', 'gauge', undefined]);
  });

  it('counts rejected points and keeps the first problem', () => {
    expect(converted.accepted).toBe(8);
    expect(converted.rejected).toBe(2);
    expect(converted.errorMessage).toBe('point 8: exemplar 0: invalid trace_id: expected 16 bytes (32 hex digits) or none, got 3 bytes');
    expect(converted.groups.map((g) => g.partition).sort()).toEqual(['date=2023-11-14/hour=22', 'date=2023-11-14/hour=23']);
    const hour22 = converted.groups.find((g) => g.partition.endsWith('22'))!;
    expect([hour22.minTime, hour22.maxTime]).toEqual([T0, T0 + 6_000_000_000n]);
  });

  it('orders columns as the schema v1 contract says', () => {
    expect(metricsSchema([parsePromoted('http.response.status_code')]).fields.map((f) => f.name)).toEqual([
      'time', 'start_time', 'metric_name', 'metric_description', 'metric_unit', 'metric_metadata', 'metric_type',
      'aggregation_temporality', 'is_monotonic', 'value', 'value_is_int', 'value_int', 'count', 'sum', 'min', 'max',
      'bucket_counts', 'explicit_bounds', 'exp_scale', 'exp_zero_count', 'exp_zero_threshold', 'exp_positive_offset',
      'exp_positive_bucket_counts', 'exp_negative_offset', 'exp_negative_bucket_counts', 'quantiles', 'exemplars', 'flags',
      'service_name', 'resource_attributes', 'resource_dropped_attributes_count', 'resource_schema_url', 'scope_name',
      'scope_version', 'scope_attributes', 'scope_dropped_attributes_count', 'scope_schema_url', 'attributes',
      'http_response_status_code',
    ]);
  });

  // Every column a type does not use, per type.
  const NUMBER_NULLS = { count: null, sum: null, min: null, max: null, bucket_counts: null, explicit_bounds: null, exp_scale: null, exp_zero_count: null, exp_zero_threshold: null, exp_positive_offset: null, exp_positive_bucket_counts: null, exp_negative_offset: null, exp_negative_bucket_counts: null, quantiles: null };
  const EXP_NULLS = { exp_scale: null, exp_zero_count: null, exp_zero_threshold: null, exp_positive_offset: null, exp_positive_bucket_counts: null, exp_negative_offset: null, exp_negative_bucket_counts: null };
  const VALUE_NULLS = { value: null, value_is_int: null, value_int: null };

  it('stores gauge points with exact ints, promoted attributes and source columns', () => {
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatchObject({
      date: '2023-11-14', hour: '22', time: String(T0), start_time: null,
      metric_name: 'queue.length', metric_description: 'Items waiting', metric_unit: '{item}', metric_metadata: { source: 'sdk' },
      metric_type: 'GAUGE', aggregation_temporality: null, is_monotonic: null,
      value: 9007199254740992, value_is_int: true, value_int: '9007199254740993', exemplars: [], flags: '0',
      service_name: 'checkout', resource_attributes: { 'service.name': 'checkout', 'host.name': 'h1' },
      resource_schema_url: 'https://opentelemetry.io/schemas/1.26.0', scope_name: 'meter-lib', scope_version: '1.2.3',
      attributes: { queue: 'orders' }, status: '200',
      ...NUMBER_NULLS,
    });
    // No recorded value: neither oneof member set.
    expect(rows[1]).toMatchObject({ time: ns(1), metric_type: 'GAUGE', ...VALUE_NULLS, flags: '1', attributes: {}, status: null, ...NUMBER_NULLS });
  });

  it('stores a monotonic cumulative sum with exemplars', () => {
    expect(rows[2]).toMatchObject({
      time: ns(2), start_time: ns(-60), metric_name: 'requests', metric_description: null, metric_unit: null, metric_metadata: {},
      metric_type: 'SUM', aggregation_temporality: 'CUMULATIVE', is_monotonic: true,
      value: 12.5, value_is_int: false, value_int: null, ...NUMBER_NULLS,
      exemplars: [
        { time: ns(1), value: 0.25, value_is_int: false, trace_id: TRACE.toString('hex'), span_id: SPAN.toString('hex'), filtered_attributes: { user: 'u1' } },
        { time: ns(1), value: 7, value_is_int: true, trace_id: null, span_id: null, filtered_attributes: {} },
      ],
    });
  });

  it('stores histograms with and without sum/min/max', () => {
    expect(rows[3]).toMatchObject({
      time: ns(3), metric_name: 'latency', metric_unit: 'ms', metric_type: 'HISTOGRAM', aggregation_temporality: 'DELTA', is_monotonic: null,
      ...VALUE_NULLS, count: '6', sum: 12.5, min: 0, max: 7.5, bucket_counts: [1, 2, 3], explicit_bounds: [1, 5], ...EXP_NULLS, quantiles: null,
      exemplars: [{ time: ns(3), value: 4, value_is_int: false, trace_id: TRACE.toString('hex'), span_id: SPAN.toString('hex'), filtered_attributes: {} }],
    });
    expect(rows[4]).toMatchObject({
      time: ns(4), metric_type: 'HISTOGRAM', ...VALUE_NULLS, count: '2', sum: null, min: null, max: null,
      bucket_counts: [2], explicit_bounds: [], ...EXP_NULLS, quantiles: null, exemplars: [],
    });
  });

  it('stores exponential histograms with negative buckets', () => {
    expect(rows[5]).toMatchObject({
      time: ns(5), metric_name: 'size', metric_type: 'EXPONENTIAL_HISTOGRAM', aggregation_temporality: 'CUMULATIVE', is_monotonic: null,
      ...VALUE_NULLS, count: '10', sum: -3.5, min: -10, max: 20, bucket_counts: null, explicit_bounds: null,
      exp_scale: -2, exp_zero_count: '1', exp_zero_threshold: 0.001,
      exp_positive_offset: 3, exp_positive_bucket_counts: [4, 1], exp_negative_offset: -2, exp_negative_bucket_counts: [1, 0, 3],
      quantiles: null, exemplars: [],
    });
    // An absent Buckets message reads as offset 0 with no buckets.
    expect(rows[6]).toMatchObject({
      time: ns(6), count: '1', sum: null, min: null, max: null, exp_scale: 5, exp_zero_count: '0', exp_zero_threshold: 0,
      exp_positive_offset: 0, exp_positive_bucket_counts: [1], exp_negative_offset: 0, exp_negative_bucket_counts: [],
    });
  });

  it('stores summaries with quantiles in the next hour partition', () => {
    expect(rows[7]).toMatchObject({
      hour: '23', time: ns(3600), metric_name: 'rpc.duration', metric_type: 'SUMMARY', aggregation_temporality: null, is_monotonic: null,
      ...VALUE_NULLS, count: '4', sum: 10, min: null, max: null, bucket_counts: null, explicit_bounds: null, ...EXP_NULLS,
      quantiles: [{ quantile: 0, value: 0.5 }, { quantile: 0.5, value: 2 }, { quantile: 1, value: 5 }],
      exemplars: null,
    });
  });

  it('keeps list validity right past the initial capacity', () => {
    // Alternating types put null list rows among valid ones across several buffer growths.
    const metrics = Array.from({ length: 150 }, (_, i) =>
      i % 3 === 0
        ? { name: 'g', gauge: { dataPoints: [{ timeUnixNano: ns(i), asDouble: i }] } }
        : { name: 'h', histogram: { dataPoints: [{ timeUnixNano: ns(i), count: i, bucketCounts: [i, 1], explicitBounds: [i] }] } });
    const T = otlpTypes().ExportMetricsServiceRequest;
    const req = T.decode(T.encode(T.fromObject({ resourceMetrics: [{ scopeMetrics: [{ metrics }] }] })).finish());
    const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
    const { groups } = convertMetrics(req as unknown as ExportMetricsServiceRequest, partitioner, []);
    const batch = groups[0]!.batch;
    const buckets = batch.getChild('bucket_counts')!;
    const bounds = batch.getChild('explicit_bounds')!;
    for (let i = 0; i < 150; i++) {
      if (i % 3 === 0) {
        expect([buckets.get(i), bounds.get(i)]).toEqual([null, null]);
      } else {
        expect([...buckets.get(i)!]).toEqual([BigInt(i), 1n]);
        expect([...bounds.get(i)!]).toEqual([i]);
      }
    }
    expect(buckets.nullCount).toBe(50);
  });
});
