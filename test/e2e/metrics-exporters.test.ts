/**
 * The official OTel JS metric exporters (gRPC, HTTP/protobuf, HTTP/JSON) send every
 * instrument kind; DuckDB reads every value, bucket, bound and attribute back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ValueType } from '@opentelemetry/api';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery, type Row } from '../helpers/duckdb.js';
import { exportMetrics, makeMetricExporter, makeMetrics } from '../helpers/metrics.js';
import { hrTimeToNanos, type Transport } from '../helpers/spans.js';

const TRANSPORTS: Transport[] = ['grpc', 'http-proto', 'http-json'];
const TYPE_NAMES: Record<number, string> = {
  [DataPointType.GAUGE]: 'GAUGE',
  [DataPointType.SUM]: 'SUM',
  [DataPointType.HISTOGRAM]: 'HISTOGRAM',
  [DataPointType.EXPONENTIAL_HISTOGRAM]: 'EXPONENTIAL_HISTOGRAM',
};

const attrsText = (a: Record<string, unknown>) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, String(v)]));
const json = (v: unknown) => (v === null ? null : JSON.parse(v as string));

describe('metrics end to end with the official exporters', () => {
  let daemon: TestDaemon;
  const sent = new Map<Transport, ResourceMetrics>();
  let rows: Row[];

  beforeAll(async () => {
    daemon = await startTestDaemon('[buffer]\nmax_age_seconds = 3600\n[schema.metrics]\npromoted_attributes = ["route"]');
    for (const transport of TRANSPORTS) {
      const metrics = await makeMetrics(`msvc-${transport}`);
      const exporter = makeMetricExporter(transport, daemon.ports);
      await exportMetrics(exporter, metrics);
      await exporter.shutdown();
      sent.set(transport, metrics);
    }
    await daemon.pipeline.flush();
    rows = await duckdbQuery(`
      SELECT service_name, metric_name, metric_description, metric_unit, metric_type, aggregation_temporality, is_monotonic,
             value, value_is_int, value_int::VARCHAR AS value_int, count::VARCHAR AS count, sum, min, max,
             to_json(bucket_counts)::VARCHAR AS bucket_counts, to_json(explicit_bounds)::VARCHAR AS explicit_bounds,
             exp_scale, exp_zero_count::VARCHAR AS exp_zero_count, exp_positive_offset, to_json(exp_positive_bucket_counts)::VARCHAR AS pos,
             exp_negative_offset, to_json(exp_negative_bucket_counts)::VARCHAR AS neg,
             epoch_ns(time)::VARCHAR AS time_ns, epoch_ns(start_time)::VARCHAR AS start_ns,
             to_json(attributes)::VARCHAR AS attributes, route, scope_name, scope_version
      FROM ${datasetGlob(daemon.dir + '/data', 'metrics')}`);
  });
  afterAll(async () => {
    await daemon?.cleanup();
  });

  it('stores one row per data point', () => {
    let points = 0;
    for (const rm of sent.values()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) points += m.dataPoints.length;
    expect(points).toBe(3 * (3 * 5 + 2));
    expect(rows).toHaveLength(points);
  });

  for (const transport of TRANSPORTS) {
    it(`keeps every value sent over ${transport}`, () => {
      const rm = sent.get(transport)!;
      const mine = rows.filter((r) => r.service_name === `msvc-${transport}`);
      for (const sm of rm.scopeMetrics) {
        for (const metric of sm.metrics) {
          const d = metric.descriptor;
          for (const p of metric.dataPoints as { attributes: Record<string, unknown>; value: unknown; startTime: [number, number]; endTime: [number, number] }[]) {
            const { route, ...rest } = p.attributes;
            const r = mine.find((x) => x.metric_name === d.name && x.route === (route ?? null) && x.attributes === JSON.stringify(attrsText(rest)));
            expect(r, `${d.name} ${JSON.stringify(p.attributes)}`).toBeDefined();
            expect(r!.metric_type).toBe(TYPE_NAMES[metric.dataPointType]);
            expect(r!.metric_description).toBe(d.description || null);
            expect(r!.metric_unit).toBe(d.unit || null);
            expect(r!.time_ns).toBe(hrTimeToNanos(p.endTime).toString());
            expect(r!.start_ns).toBe(hrTimeToNanos(p.startTime).toString());
            expect([r!.scope_name, r!.scope_version]).toEqual(['e2e-meter', '3.0.0']);
            switch (metric.dataPointType) {
              case DataPointType.GAUGE:
              case DataPointType.SUM: {
                const isInt = d.valueType === ValueType.INT;
                expect(r!.value).toBe(p.value);
                expect(r!.value_is_int).toBe(isInt);
                expect(r!.value_int).toBe(isInt ? String(p.value) : null);
                expect(r!.count).toBeNull();
                expect(r!.aggregation_temporality).toBe(metric.dataPointType === DataPointType.SUM ? 'CUMULATIVE' : null);
                expect(r!.is_monotonic).toBe(metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : null);
                break;
              }
              case DataPointType.HISTOGRAM: {
                const h = p.value as { count: number; sum: number; min: number; max: number; buckets: { boundaries: number[]; counts: number[] } };
                expect([r!.count, r!.sum, r!.min, r!.max]).toEqual([String(h.count), h.sum, h.min, h.max]);
                expect(json(r!.bucket_counts)).toEqual(h.buckets.counts);
                expect(json(r!.explicit_bounds)).toEqual(h.buckets.boundaries);
                expect(r!.value).toBeNull();
                expect(r!.aggregation_temporality).toBe('CUMULATIVE');
                break;
              }
              case DataPointType.EXPONENTIAL_HISTOGRAM: {
                const e = p.value as { count: number; sum: number; min: number; max: number; scale: number; zeroCount: number; positive: { offset: number; bucketCounts: number[] }; negative: { offset: number; bucketCounts: number[] } };
                expect([r!.count, r!.sum, r!.min, r!.max]).toEqual([String(e.count), e.sum, e.min, e.max]);
                expect([r!.exp_scale, r!.exp_zero_count]).toEqual([e.scale, String(e.zeroCount)]);
                expect([r!.exp_positive_offset, json(r!.pos)]).toEqual([e.positive.offset, e.positive.bucketCounts]);
                expect([r!.exp_negative_offset, json(r!.neg)]).toEqual([e.negative.offset, e.negative.bucketCounts]);
                break;
              }
            }
          }
        }
      }
    });
  }
});
