/**
 * The `metrics` dataset, schema version 2: one row per data point, every metric type in one
 * table (`metric_type`); columns that do not apply to a row's type are null.
 *
 * This file is the contract shared by the writer, the query port and outside engines. The
 * version constant changes with the columns, and files of an older version stay readable: the
 * startup check refuses a schema the newest stored files cannot be read with, and every read
 * unions files by column name (a column a file lacks reads as null).
 *
 * Version 2 adds the dedicated resource-attribute columns (`promoted_resource_attributes`,
 * after the promoted ones; common.ts, promoted.ts): a value that fits moves out of
 * `resource_attributes`.
 */
import type { Schema } from 'apache-arrow';
import { DatasetBatchBuilderBase } from './batch-builder.js';
import { BoolBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringMapBuilder, StructBuilder } from './columns.js';
import { TimestampNsBuilder, Utf8Builder, type ColumnBuilder } from './columns.js';
import { Float64ListBuilder, Int64ListBuilder } from './list-columns.js';
import { appendAttributes, type ResourceContext, type ScopeContext } from './common.js';
import type { PromotedSpec } from './promoted.js';
import { DOUBLE, INTEGER, type StorageLayout } from '../parquet/contract.js';
import { clampToInt64, describeId, hexOrNull, int64ToBigInt, unixNanoToBigInt } from '../otlp/values.js';
import type { Int64Value, KeyValue } from '../otlp/types.js';
import type { Exemplar, ExponentialHistogramBuckets, ExponentialHistogramDataPoint, HistogramDataPoint } from '../otlp/metric-types.js';
import type { Metric, MetricDataKind, NumberDataPoint, SummaryDataPoint } from '../otlp/metric-types.js';
import type { WireReader } from '../otlp/wire-reader.js';
import { appendWireAttributes, type AttributesCheck } from './wire-attributes.js';
import { EXPONENTIAL_HISTOGRAM, GAUGE, HISTOGRAM, SUM, type WireDataPoint } from './wire-data-point.js';
import type { WireExemplars } from './wire-exemplar.js';

export const METRICS_SCHEMA_VERSION = 2;
export const METRICS_EVENT_TIME_COLUMN = 'time';

/**
 * Rows by metric and service, in arrival order within (an exporter sends each collection's
 * points in the same series order, so repeated collections line up). Sorting by point attributes
 * and time as well is supported but measured ~6 % larger on the bench load, whose values carry
 * no per-series history; revisit with real cumulative counters. Timestamps keep the dictionary
 * (a flush holds few distinct collection times).
 */
export const METRICS_STORAGE: StorageLayout = {
  sortBy: ['metric_name', 'service_name'],
  encodings: {
    value: DOUBLE,
    value_int: INTEGER,
  },
};

export type MetricType = 'GAUGE' | 'SUM' | 'HISTOGRAM' | 'EXPONENTIAL_HISTOGRAM' | 'SUMMARY';
export type DataPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint | SummaryDataPoint;

const METRIC_TYPES: Readonly<Record<MetricDataKind, MetricType>> = {
  gauge: 'GAUGE', sum: 'SUM', histogram: 'HISTOGRAM', exponentialHistogram: 'EXPONENTIAL_HISTOGRAM', summary: 'SUMMARY',
};
const TEMPORALITIES = ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'];

/** uint64 counts go into signed Int64 columns; a count beyond 2^63-1 is clamped, not wrapped. */
function count(v: Int64Value): bigint {
  return clampToInt64(int64ToBigInt(v));
}

/** Names are client-controlled; a bounded excerpt keeps error messages small. */
function quoted(name: string): string {
  return JSON.stringify(name.length > 100 ? name.slice(0, 100) + '…' : name);
}

/** The points of the member of `data` that is set; empty when none is. */
export function dataPointsOf(metric: Metric): readonly DataPoint[] {
  return (metric.data === undefined ? undefined : metric[metric.data]?.dataPoints) ?? [];
}

/** Why no point of this metric can be stored, or null. */
export function validateMetric(metric: Metric): string | null {
  if (metric.data === undefined) return `metric ${quoted(metric.name)} has no data (gauge, sum, histogram, exponential_histogram or summary)`;
  if (metric.name === '') return 'metric has an empty name';
  return null;
}

/** Why a data point cannot be stored, or null when it can (OTLP partial success reports it). */
export function validateDataPoint(metric: Metric, point: DataPoint): string | null {
  const problem = validateMetric(metric);
  if (problem !== null || metric.data === 'summary') return problem;
  const exemplars = (point as NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint).exemplars ?? [];
  for (let i = 0; i < exemplars.length; i++) {
    const e = exemplars[i]!;
    if (e.traceId.length !== 0 && e.traceId.length !== 16) {
      return `exemplar ${i}: invalid trace_id: expected 16 bytes (32 hex digits) or none, got ${describeId(e.traceId)}`;
    }
    if (e.spanId.length !== 0 && e.spanId.length !== 8) {
      return `exemplar ${i}: invalid span_id: expected 8 bytes (16 hex digits) or none, got ${describeId(e.spanId)}`;
    }
  }
  return null;
}

/** What every point of one Metric shares, prepared once per metric rather than per point. */
export interface MetricContext {
  readonly kind: MetricDataKind;
  readonly name: Buffer;
  readonly description: Buffer | null;
  readonly unit: Buffer | null;
  readonly metadata: readonly KeyValue[];
  readonly type: MetricType;
  readonly temporality: string | null;
  readonly isMonotonic: boolean | null;
}

/** For a metric that passed `validateMetric`. */
export function metricContext(metric: Metric): MetricContext {
  const kind = metric.data;
  if (kind === undefined) throw new Error('metricContext: metric has no data');
  const temporality =
    kind === 'sum' || kind === 'histogram' || kind === 'exponentialHistogram'
      ? (metric[kind]?.aggregationTemporality ?? 0)
      : null;
  return {
    kind,
    name: Buffer.from(metric.name, 'utf8'),
    description: metric.description ? Buffer.from(metric.description, 'utf8') : null,
    unit: metric.unit ? Buffer.from(metric.unit, 'utf8') : null,
    metadata: metric.metadata ?? [],
    type: METRIC_TYPES[kind],
    temporality: temporality === null ? null : (TEMPORALITIES[temporality] ?? String(temporality)),
    isMonotonic: kind === 'sum' ? (metric.sum?.isMonotonic ?? false) : null,
  };
}

function nulls(columns: readonly ColumnBuilder[]): void {
  for (let i = 0; i < columns.length; i++) columns[i]!.appendNull();
}

/** One list row of the first `n` values, given as [lo, hi] word pairs (already clamped). */
function appendWordPairs(list: Int64ListBuilder, words: readonly number[], n: number): void {
  const items = list.items;
  for (let i = 0; i < n; i++) items.appendWords(words[2 * i]!, words[2 * i + 1]!);
  list.endRow();
}

function appendBytesOrNull(b: Utf8Builder, bytes: Buffer | null): void {
  if (bytes === null) b.appendNull();
  else b.appendBytes(bytes);
}

function exemplarColumns() {
  return new StructBuilder({
    time: new TimestampNsBuilder(),
    value: new Float64Builder(),
    value_is_int: new BoolBuilder(),
    value_int: new Int64Builder(),
    trace_id: new Utf8Builder(),
    span_id: new Utf8Builder(),
    filtered_attributes: new StringMapBuilder(),
  });
}

/** Builds one record batch of data points; one builder per partition per request. */
export class MetricsBatchBuilder extends DatasetBatchBuilderBase {
  private readonly c;
  // The type-specific columns, by group, for the types that leave them null.
  private readonly valueColumns: ColumnBuilder[];
  private readonly bucketColumns: ColumnBuilder[];
  private readonly expColumns: ColumnBuilder[];

  /**
   * `rows`: the points expected (the one-pass decoder passes an estimate from the request), so
   * the flat columns start at their final row count: no growth copies, and `tight` hands the
   * arrays over as they are. The bytes per row are the bench load's, a start only.
   */
  constructor(promoted: readonly PromotedSpec[], rows?: number) {
    super(promoted, NOT_NULL, rows);
    this.c = {
      time: new TimestampNsBuilder(rows),
      start_time: new TimestampNsBuilder(rows),
      metric_name: new Utf8Builder(rows, 24),
      metric_description: new Utf8Builder(rows, 16),
      metric_unit: new Utf8Builder(rows, 4),
      metric_metadata: new StringMapBuilder(rows, 0),
      metric_type: new Utf8Builder(rows, 8),
      aggregation_temporality: new Utf8Builder(rows, 10),
      is_monotonic: new BoolBuilder(rows),
      value: new Float64Builder(rows),
      value_is_int: new BoolBuilder(rows),
      value_int: new Int64Builder(rows),
      count: new Int64Builder(rows),
      sum: new Float64Builder(rows),
      min: new Float64Builder(rows),
      max: new Float64Builder(rows),
      bucket_counts: new Int64ListBuilder(),
      explicit_bounds: new Float64ListBuilder(),
      exp_scale: new Int32Builder(rows),
      exp_zero_count: new Int64Builder(rows),
      exp_zero_threshold: new Float64Builder(rows),
      exp_positive_offset: new Int32Builder(rows),
      exp_positive_bucket_counts: new Int64ListBuilder(),
      exp_negative_offset: new Int32Builder(rows),
      exp_negative_bucket_counts: new Int64ListBuilder(),
      quantiles: new ListBuilder(new StructBuilder({ quantile: new Float64Builder(), value: new Float64Builder() })),
      exemplars: new ListBuilder(exemplarColumns()),
      flags: new Int64Builder(rows),
      attributes: new StringMapBuilder(rows, 3),
    };
    const c = this.c;
    this.valueColumns = [c.value, c.value_is_int, c.value_int];
    this.bucketColumns = [c.bucket_counts, c.explicit_bounds];
    this.expColumns = [
      c.exp_scale, c.exp_zero_count, c.exp_zero_threshold, c.exp_positive_offset,
      c.exp_positive_bucket_counts, c.exp_negative_offset, c.exp_negative_bucket_counts,
    ];
  }

  /**
   * Appends a point that passed `validateDataPoint`; `point` must belong to `metric.kind`,
   * and `time` is its time_unix_nano.
   */
  append(resource: ResourceContext, scope: ScopeContext, metric: MetricContext, point: DataPoint, time: bigint): void {
    const c = this.c;
    this.countRow(time);
    c.time.append(time);
    const start = unixNanoToBigInt(point.startTimeUnixNano);
    c.start_time.append(start === 0n ? null : start);
    this.appendMetric(metric);
    // Each branch writes exactly one value (or null) to every type-specific column.
    const kind = metric.kind;
    if (kind === 'gauge' || kind === 'sum') this.appendNumber(point as NumberDataPoint);
    else if (kind === 'histogram') this.appendHistogram(point as HistogramDataPoint);
    else if (kind === 'exponentialHistogram') this.appendExponential(point as ExponentialHistogramDataPoint);
    else this.appendSummary(point as SummaryDataPoint);
    c.flags.append(BigInt(point.flags >>> 0));
    this.source.append(resource, scope);
    appendAttributes(c.attributes, point.attributes, this.promoted);
    this.promoted.endRow();
  }

  /** The metric's own columns, the same for every point of it (both decoders). */
  private appendMetric(metric: MetricContext): void {
    const c = this.c;
    c.metric_name.appendBytes(metric.name);
    appendBytesOrNull(c.metric_description, metric.description);
    appendBytesOrNull(c.metric_unit, metric.unit);
    appendAttributes(c.metric_metadata, metric.metadata);
    c.metric_type.append(metric.type);
    c.aggregation_temporality.append(metric.temporality);
    c.is_monotonic.append(metric.isMonotonic);
  }

  /**
   * `append` for a point read from protobuf bytes (the one-pass metrics decoder); `kind` is the
   * `Metric.data` member's field number (wire-data-point.ts) and `time` the clamped point time;
   * `check` checks the point's attributes as they are read (the decoder's limits pass);
   * `exemplars` are the point's, already read (and checked: `WireExemplars.problem`).
   */
  appendWire(resource: ResourceContext, scope: ScopeContext, metric: MetricContext, kind: number, p: WireDataPoint, r: WireReader, time: bigint, exemplars: WireExemplars, check?: AttributesCheck): void {
    const c = this.c;
    this.countRow(time);
    c.time.append(time);
    // 64-bit values as their words (no bigint): start clamped at 2^63 − 1 and null when 0, as
    // `append` writes `unixNanoToBigInt`'s value.
    if (p.startLo === 0 && p.startHi === 0) c.start_time.appendNull();
    else c.start_time.appendClampedWords(p.startLo, p.startHi);
    this.appendMetric(metric);
    if (kind === GAUGE || kind === SUM) {
      if (p.valueKind === 6) {
        c.value.append(p.asIntNumber);
        c.value_is_int.append(true);
        c.value_int.appendWords(p.asIntLo, p.asIntHi);
      } else {
        c.value.append(p.valueKind === 4 ? p.asDouble : null);
        c.value_is_int.append(p.valueKind === 4 ? false : null);
        c.value_int.appendNull();
      }
      this.appendStats(null, null, null, null);
      nulls(this.bucketColumns);
      nulls(this.expColumns);
      c.quantiles.appendNull();
      this.appendWireExemplars(exemplars, r);
    } else if (kind === HISTOGRAM) {
      nulls(this.valueColumns);
      this.appendWireStats(p);
      appendWordPairs(c.bucket_counts, p.counts, p.nCounts);
      const bounds = c.explicit_bounds.items;
      for (let i = 0; i < p.nBounds; i++) bounds.append(p.bounds[i]!);
      c.explicit_bounds.endRow();
      nulls(this.expColumns);
      c.quantiles.appendNull();
      this.appendWireExemplars(exemplars, r);
    } else if (kind === EXPONENTIAL_HISTOGRAM) {
      nulls(this.valueColumns);
      this.appendWireStats(p);
      nulls(this.bucketColumns);
      c.exp_scale.append(p.scale);
      c.exp_zero_count.appendClampedWords(p.zeroCountLo, p.zeroCountHi);
      c.exp_zero_threshold.append(p.zeroThreshold);
      c.exp_positive_offset.append(p.positiveOffset);
      appendWordPairs(c.exp_positive_bucket_counts, p.positive, p.nPositive);
      c.exp_negative_offset.append(p.negativeOffset);
      appendWordPairs(c.exp_negative_bucket_counts, p.negative, p.nNegative);
      c.quantiles.appendNull();
      this.appendWireExemplars(exemplars, r);
    } else {
      nulls(this.valueColumns);
      c.count.appendClampedWords(p.countLo, p.countHi);
      c.sum.append(p.sum);
      c.min.appendNull();
      c.max.appendNull();
      nulls(this.bucketColumns);
      nulls(this.expColumns);
      const q = c.quantiles.items;
      for (let i = 0; i < p.nQuantiles; i++) {
        q.children.quantile.append(p.quantiles[i * 2]!);
        q.children.value.append(p.quantiles[i * 2 + 1]!);
        q.endRow();
      }
      c.quantiles.endRow();
      c.exemplars.appendNull();
    }
    c.flags.appendUint32(p.flags >>> 0);
    this.source.append(resource, scope);
    const attrs = p.attributes;
    appendWireAttributes(c.attributes, r, attrs.starts, attrs.ends, 0, attrs.length, this.promoted, check);
    this.promoted.endRow();
  }

  private appendWireStats(p: WireDataPoint): void {
    const c = this.c;
    c.count.appendClampedWords(p.countLo, p.countHi);
    c.sum.append(p.hasSum ? p.sum : null);
    c.min.append(p.hasMin ? p.min : null);
    c.max.append(p.hasMax ? p.max : null);
  }

  /** The point's exemplars (one list row), from their words: no bigint. */
  private appendWireExemplars(e: WireExemplars, r: WireReader): void {
    const list = this.c.exemplars;
    const ex = list.items.children;
    const buf = r.buf;
    const a = e.attributes;
    for (let i = 0; i < e.length; i++) {
      ex.time.appendClampedWords(e.timeLo[i]!, e.timeHi[i]!);
      const kind = e.valueKind[i]!;
      if (kind === 6) {
        ex.value.append(e.asIntNumber(i));
        ex.value_is_int.append(true);
        ex.value_int.appendWords(e.asIntLo[i]!, e.asIntHi[i]!);
      } else {
        ex.value.append(kind === 3 ? e.asDouble[i]! : null);
        ex.value_is_int.append(kind === 3 ? false : null);
        ex.value_int.appendNull();
      }
      const t0 = e.traceId0[i]!;
      const t1 = e.traceId1[i]!;
      if (t1 > t0) ex.trace_id.appendHexRange(buf, t0, t1);
      else ex.trace_id.appendNull();
      const s0 = e.spanId0[i]!;
      const s1 = e.spanId1[i]!;
      if (s1 > s0) ex.span_id.appendHexRange(buf, s0, s1);
      else ex.span_id.appendNull();
      appendWireAttributes(ex.filtered_attributes, r, a.starts, a.ends, e.attributesFrom[i]!, e.attributesFrom[i + 1]!);
      list.items.endRow();
    }
    list.endRow();
  }

  private appendNumber(p: NumberDataPoint): void {
    const c = this.c;
    if (p.value === 'asInt') {
      const n = int64ToBigInt(p.asInt);
      c.value.append(Number(n));
      c.value_is_int.append(true);
      c.value_int.append(n);
    } else {
      // A point with neither member set (e.g. flagged NO_RECORDED_VALUE) keeps a null value.
      c.value.append(p.value === 'asDouble' ? p.asDouble : null);
      c.value_is_int.append(p.value === 'asDouble' ? false : null);
      c.value_int.appendNull();
    }
    this.appendStats(null, null, null, null);
    nulls(this.bucketColumns);
    nulls(this.expColumns);
    c.quantiles.appendNull();
    this.appendExemplars(p.exemplars);
  }

  private appendHistogram(p: HistogramDataPoint): void {
    const c = this.c;
    nulls(this.valueColumns);
    this.appendStats(p.count, p.sum, p.min, p.max);
    c.bucket_counts.append(p.bucketCounts ?? [], count);
    c.explicit_bounds.append(p.explicitBounds ?? []);
    nulls(this.expColumns);
    c.quantiles.appendNull();
    this.appendExemplars(p.exemplars);
  }

  private appendExponential(p: ExponentialHistogramDataPoint): void {
    const c = this.c;
    nulls(this.valueColumns);
    this.appendStats(p.count, p.sum, p.min, p.max);
    nulls(this.bucketColumns);
    c.exp_scale.append(p.scale);
    c.exp_zero_count.append(count(p.zeroCount));
    c.exp_zero_threshold.append(p.zeroThreshold);
    this.appendBuckets(c.exp_positive_offset, c.exp_positive_bucket_counts, p.positive);
    this.appendBuckets(c.exp_negative_offset, c.exp_negative_bucket_counts, p.negative);
    c.quantiles.appendNull();
    this.appendExemplars(p.exemplars);
  }

  private appendSummary(p: SummaryDataPoint): void {
    const c = this.c;
    nulls(this.valueColumns);
    // Summary.sum is a plain double, so it is always present; min/max do not exist.
    this.appendStats(p.count, p.sum, null, null);
    nulls(this.bucketColumns);
    nulls(this.expColumns);
    const q = c.quantiles.items;
    for (const v of p.quantileValues ?? []) {
      q.children.quantile.append(v.quantile);
      q.children.value.append(v.value);
      q.endRow();
    }
    c.quantiles.endRow();
    c.exemplars.appendNull();
  }

  /** Absent optional fields arrive as null (see metric-types.ts) and stay null. */
  private appendStats(n: Int64Value | null, sum: number | null | undefined, min: number | null | undefined, max: number | null | undefined): void {
    this.c.count.append(n === null ? null : count(n));
    this.c.sum.append(sum ?? null);
    this.c.min.append(min ?? null);
    this.c.max.append(max ?? null);
  }

  /** An absent Buckets message means no buckets on that side: offset 0, empty list. */
  private appendBuckets(offset: Int32Builder, list: Int64ListBuilder, b: ExponentialHistogramBuckets | null | undefined): void {
    offset.append(b?.offset ?? 0);
    list.append(b?.bucketCounts ?? [], count);
  }

  private appendExemplars(exemplars: readonly Exemplar[] | null | undefined): void {
    const list = this.c.exemplars;
    const ex = list.items.children;
    for (const e of exemplars ?? []) {
      ex.time.append(unixNanoToBigInt(e.timeUnixNano));
      if (e.value === 'asInt') {
        const exact = int64ToBigInt(e.asInt);
        ex.value.append(Number(exact));
        ex.value_is_int.append(true);
        ex.value_int.append(exact);
      } else {
        ex.value.append(e.value === 'asDouble' ? e.asDouble : null);
        ex.value_is_int.append(e.value === 'asDouble' ? false : null);
        ex.value_int.append(null);
      }
      ex.trace_id.append(hexOrNull(e.traceId));
      ex.span_id.append(hexOrNull(e.spanId));
      appendAttributes(ex.filtered_attributes, e.filteredAttributes);
      list.items.endRow();
    }
    list.endRow();
  }

  protected columns(): [string, ColumnBuilder][] {
    const { attributes, ...head } = this.c;
    const ordered = Object.entries(head) as [string, ColumnBuilder][];
    ordered.push(...this.source.entries());
    ordered.push(['attributes', attributes]);
    ordered.push(...this.promotedColumns());
    return ordered;
  }
}

const NOT_NULL = new Set(['time', 'metric_name', 'metric_type', 'flags']);

/** The Arrow schema of the dataset for a given list of promoted attributes. */
export function metricsSchema(promoted: readonly PromotedSpec[]): Schema {
  return new MetricsBatchBuilder(promoted).finish().schema;
}
