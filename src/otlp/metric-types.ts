/**
 * The shapes protobufjs produces for OTLP v1 metrics messages (see types.ts for the general
 * conventions: camelCase, `Long` for 64-bit integers, enums as numbers, defaults through the
 * prototype, oneofs exposing the set member's name).
 *
 * Presence of proto3 `optional` fields (HistogramDataPoint and ExponentialHistogramDataPoint
 * `sum`, `min`, `max`): protobufjs puts such a field in a synthetic oneof (`_sum`, ...) and
 * gives it a prototype default of `null` instead of 0, so an absent field reads as `null`
 * while an explicit 0 reads as 0. Both `decode` and `fromObject` behave this way (checked by
 * test/unit/metrics-schema.test.ts). An absent message field (`Buckets positive`) also reads
 * as `null`; an unset oneof (`Metric.data`, `NumberDataPoint.value`) reads as `undefined`.
 */
import type { InstrumentationScope, Int64Value, KeyValue, Resource } from './types.js';

/** AggregationTemporality: 0 UNSPECIFIED, 1 DELTA, 2 CUMULATIVE. */
export type AggregationTemporality = number;

export interface Exemplar {
  filteredAttributes: KeyValue[];
  timeUnixNano: Int64Value;
  /** Name of the member that is set, undefined when neither is. */
  value?: 'asDouble' | 'asInt';
  asDouble: number;
  asInt: Int64Value;
  /** Empty when absent. */
  spanId: Uint8Array;
  /** Empty when absent. */
  traceId: Uint8Array;
}

export interface NumberDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: Int64Value;
  timeUnixNano: Int64Value;
  /** Name of the member that is set, undefined when neither is. */
  value?: 'asDouble' | 'asInt';
  asDouble: number;
  /** sfixed64: signed. */
  asInt: Int64Value;
  exemplars: Exemplar[];
  flags: number;
}

export interface HistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: Int64Value;
  timeUnixNano: Int64Value;
  count: Int64Value;
  /** proto3 optional: null when absent. */
  sum: number | null;
  bucketCounts: Int64Value[];
  explicitBounds: number[];
  exemplars: Exemplar[];
  flags: number;
  /** proto3 optional: null when absent. */
  min: number | null;
  /** proto3 optional: null when absent. */
  max: number | null;
}

export interface ExponentialHistogramBuckets {
  offset: number;
  bucketCounts: Int64Value[];
}

export interface ExponentialHistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: Int64Value;
  timeUnixNano: Int64Value;
  count: Int64Value;
  /** proto3 optional: null when absent. */
  sum: number | null;
  scale: number;
  zeroCount: Int64Value;
  /** null when absent. */
  positive: ExponentialHistogramBuckets | null;
  /** null when absent. */
  negative: ExponentialHistogramBuckets | null;
  flags: number;
  exemplars: Exemplar[];
  /** proto3 optional: null when absent. */
  min: number | null;
  /** proto3 optional: null when absent. */
  max: number | null;
  zeroThreshold: number;
}

export interface ValueAtQuantile {
  quantile: number;
  value: number;
}

export interface SummaryDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: Int64Value;
  timeUnixNano: Int64Value;
  count: Int64Value;
  /** Plain double (not optional): 0 when absent. */
  sum: number;
  quantileValues: ValueAtQuantile[];
  flags: number;
}

export interface Gauge {
  dataPoints: NumberDataPoint[];
}

export interface Sum {
  dataPoints: NumberDataPoint[];
  aggregationTemporality: AggregationTemporality;
  isMonotonic: boolean;
}

export interface Histogram {
  dataPoints: HistogramDataPoint[];
  aggregationTemporality: AggregationTemporality;
}

export interface ExponentialHistogram {
  dataPoints: ExponentialHistogramDataPoint[];
  aggregationTemporality: AggregationTemporality;
}

export interface Summary {
  dataPoints: SummaryDataPoint[];
}

export type MetricDataKind = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';

export interface Metric {
  name: string;
  description: string;
  unit: string;
  /** Name of the member of the `data` oneof that is set, undefined when none is. */
  data?: MetricDataKind;
  gauge: Gauge | null;
  sum: Sum | null;
  histogram: Histogram | null;
  exponentialHistogram: ExponentialHistogram | null;
  summary: Summary | null;
  metadata: KeyValue[];
}

export interface ScopeMetrics {
  scope: InstrumentationScope | null;
  metrics: Metric[];
  schemaUrl: string;
}

export interface ResourceMetrics {
  resource: Resource | null;
  scopeMetrics: ScopeMetrics[];
  schemaUrl: string;
}

export interface ExportMetricsServiceRequest {
  resourceMetrics: ResourceMetrics[];
}
