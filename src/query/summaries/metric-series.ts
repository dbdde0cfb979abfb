/**
 * Metric names and chart series for the UI, computed server-side so the browser receives a few
 * hundred numbers instead of every data point.
 *
 * Per stream (a metric's service, resource and attributes), points are turned into what a chart
 * should show, then summed (or averaged, for gauges) per group and time bucket:
 * - monotonic SUM: a rate per second — cumulative points by their difference from the stream's
 *   previous point (a drop is a restart, the new value is the increase; a first point counts in
 *   full when its start_time is inside the range), delta points as they are;
 * - GAUGE and non-monotonic SUM: the value (gauges averaged in a bucket, up-down sums summed over
 *   streams of their last value);
 * - HISTOGRAM: p50/p90/p99 interpolated in the merged buckets (cumulative points by difference);
 * - EXPONENTIAL_HISTOGRAM: p50/p90/p99 from the merged exponential buckets (percentiles.ts);
 * - SUMMARY: p50/p90/p99 from each point's own quantiles, averaged over the points of a step.
 * Groups beyond MAX_GROUPS fold into "(other)"; the streams tracked are bounded too.
 */
import { S3ParquetError } from '../../errors.js';
import type { QueryStats } from '../engine.js';
import type { RecordSource } from '../record-source.js';
import { emptyStats } from '../engine.js';
import type { JsonValue } from '../json-values.js';
import { promotedIntoMaps } from '../catalog.js';
import { nsToMs, quote, timeNs } from './params.js';
import { diffExp, downscale, expFromPoint, expQuantile, mergeExp, summaryQuantile, type ExpBuckets } from './percentiles.js';

export const MAX_GROUPS = 20;
const MAX_STREAMS = 20_000;
const MAX_NAMES = 5_000;
const MAX_KEYS_PER_NAME = 50;
export const PERCENTILES = [0.5, 0.9, 0.99] as const;

export interface MetricName {
  name: string;
  type: string;
  unit: string;
  description: string;
  /** Attribute keys seen on its points (group-by choices), at most 50. */
  attributes: string[];
}

export async function metricNames(source: RecordSource, o: { start: bigint; end: bigint }): Promise<{ metrics: MetricName[]; truncated: boolean; stats: QueryStats }> {
  const stats = emptyStats();
  const byName = new Map<string, MetricName & { keys: Set<string> }>();
  let truncated = false;
  const q = { dataset: 'metrics', start: o.start, end: o.end, select: ['metric_name', 'metric_type', 'metric_unit', 'metric_description', 'attributes'] };
  for await (const rec of source.query(q, stats)) {
    const name = String(rec.metric_name ?? '');
    let m = byName.get(name);
    if (!m) {
      if (byName.size === MAX_NAMES) {
        truncated = true;
        continue;
      }
      byName.set(name, (m = { name, type: String(rec.metric_type ?? ''), unit: String(rec.metric_unit ?? ''), description: String(rec.metric_description ?? ''), attributes: [], keys: new Set() }));
    }
    const attrs = rec.attributes;
    if (attrs && typeof attrs === 'object' && !Array.isArray(attrs)) for (const k of Object.keys(attrs)) if (m.keys.size < MAX_KEYS_PER_NAME) m.keys.add(k);
  }
  const metrics = [...byName.values()].map(({ keys, ...m }) => ({ ...m, attributes: [...keys].sort() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { metrics, truncated, stats };
}

export interface MetricSeries {
  name: string;
  type: string;
  unit: string;
  /** What the values are: `rate/s`, `value`, `percentile`, `mean`. */
  shows: string;
  start_ms: number;
  step_ms: number;
  /** Bucket start times in ms. */
  times: number[];
  series: { label: string; group: string; values: (number | null)[] }[];
  points: number;
  groups_folded: boolean;
  stats: QueryStats;
}

interface Stream {
  prevValue?: number;
  prevCount?: number;
  prevBuckets?: number[];
  prevExp?: ExpBuckets;
}

type Cell = {
  sum: number; n: number; buckets?: number[]; bounds?: number[]; last?: Map<string, number>;
  exp?: ExpBuckets;
  /** Summaries: per entry of PERCENTILES, the sum and number of the points' values. */
  quantiles?: { sum: number; n: number }[];
};

function num(v: JsonValue | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function numList(v: JsonValue | undefined): number[] | null {
  if (!Array.isArray(v)) return null;
  const out = v.map((x) => num(x));
  return out.every((x) => x !== null) ? (out as number[]) : null;
}

/** An exponential-histogram record's buckets; null when a column is missing or malformed. */
function expPoint(rec: Record<string, JsonValue>): ExpBuckets | null {
  const scale = num(rec.exp_scale);
  const positive = numList(rec.exp_positive_bucket_counts) ?? [];
  const negative = numList(rec.exp_negative_bucket_counts) ?? [];
  if (scale === null || !Number.isInteger(scale)) return null;
  return expFromPoint({
    scale, zeroCount: num(rec.exp_zero_count) ?? 0, zeroThreshold: num(rec.exp_zero_threshold) ?? 0,
    positiveOffset: num(rec.exp_positive_offset) ?? 0, positive, negativeOffset: num(rec.exp_negative_offset) ?? 0, negative,
  });
}

/** A summary record's quantiles; null when there are none. */
function quantileList(v: JsonValue | undefined): { quantile: number; value: number }[] | null {
  if (!Array.isArray(v)) return null;
  const out: { quantile: number; value: number }[] = [];
  for (const e of v) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) continue;
    const q = num(e.quantile);
    const val = num(e.value);
    if (q !== null && val !== null) out.push({ quantile: q, value: val });
  }
  return out.length > 0 ? out : null;
}

/** The q-quantile of a histogram by linear interpolation inside the bucket that holds it. */
export function histogramQuantile(q: number, counts: readonly number[], bounds: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (seen + c >= rank && c > 0) {
      // The first bucket has no lower bound and the last no upper: clamp to the known bound.
      const lo = i === 0 ? Math.min(0, bounds[0] ?? 0) : bounds[i - 1]!;
      const hi = i < bounds.length ? bounds[i]! : bounds[bounds.length - 1] ?? lo;
      return lo + (hi - lo) * ((rank - seen) / c);
    }
    seen += c;
  }
  return bounds[bounds.length - 1] ?? null;
}

export async function metricSeries(source: RecordSource, o: { name: string; groupBy?: string; start: bigint; end: bigint; buckets: number }): Promise<MetricSeries> {
  const stats = emptyStats();
  const promoted = source.catalog('metrics').promoted;
  const stepNs = ((o.end - o.start + BigInt(o.buckets) - 1n) / BigInt(o.buckets) + 999_999n) / 1_000_000n * 1_000_000n;
  const stepS = Number(stepNs) / 1e9;
  const groupOf = (rec: Record<string, JsonValue>): string => {
    if (!o.groupBy) return 'all';
    if (o.groupBy === 'service_name') return String(rec.service_name ?? '');
    const a = rec.attributes as Record<string, JsonValue> | null;
    const r = rec.resource_attributes as Record<string, JsonValue> | null;
    const v = a?.[o.groupBy] ?? r?.[o.groupBy];
    return v === undefined || v === null ? '(none)' : String(v);
  };
  const streams = new Map<string, Stream>();
  const cells = new Map<string, Map<number, Cell>>();
  let type = '';
  let unit = '';
  let points = 0;
  let folded = false;
  const q = {
    dataset: 'metrics',
    start: o.start,
    end: o.end,
    filter: `metric_name = ${quote(o.name)}`,
    select: [
      'time', 'start_time', 'service_name', 'resource_attributes', 'attributes', 'metric_type', 'metric_unit', 'aggregation_temporality', 'is_monotonic',
      'value', 'count', 'sum', 'bucket_counts', 'explicit_bounds',
      'exp_scale', 'exp_zero_count', 'exp_zero_threshold', 'exp_positive_offset', 'exp_positive_bucket_counts', 'exp_negative_offset', 'exp_negative_bucket_counts', 'quantiles',
      ...promoted.map((p) => p.column),
    ],
  };
  // Points arrive in file order; cumulative differences need time order per stream.
  const rows: { t: bigint; rec: Record<string, JsonValue> }[] = [];
  for await (const stored of source.query(q, stats)) {
    // Streams are keyed by the maps: promoted values go back in, so v1 and v2 files agree.
    const rec = promotedIntoMaps(stored, promoted);
    const t = timeNs(rec.time);
    if (t === null) continue;
    rows.push({ t, rec });
    if (rows.length > 2_000_000) throw new S3ParquetError('INVALID_ARGUMENT', `metric ${JSON.stringify(o.name)} has over 2,000,000 points in the range; choose a shorter range`);
  }
  rows.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  for (const { t, rec } of rows) {
    points++;
    type ||= String(rec.metric_type ?? '');
    unit ||= String(rec.metric_unit ?? '');
    const sk = JSON.stringify([rec.service_name, rec.resource_attributes, rec.attributes]);
    let stream = streams.get(sk);
    if (!stream) {
      if (streams.size >= MAX_STREAMS) continue;
      streams.set(sk, (stream = {}));
    }
    let group = groupOf(rec);
    if (!cells.has(group) && cells.size >= MAX_GROUPS) {
      group = '(other)';
      folded = true;
    }
    let byBucket = cells.get(group);
    if (!byBucket) cells.set(group, (byBucket = new Map()));
    const b = Number((t - o.start) / stepNs);
    let cell = byBucket.get(b);
    if (!cell) byBucket.set(b, (cell = { sum: 0, n: 0 }));
    const cumulative = rec.aggregation_temporality === 'CUMULATIVE';
    // A stream's first cumulative point counts in full when its series started inside the range
    // (a process that started then); otherwise its total includes time before the range.
    const startedInside = (timeNs(rec.start_time) ?? -1n) >= o.start;
    const mtype = String(rec.metric_type);
    if (mtype === 'SUM' && rec.is_monotonic === true) {
      const v = num(rec.value);
      if (v === null) continue;
      let inc = v;
      if (cumulative) {
        inc = stream.prevValue === undefined ? (startedInside ? v : 0) : v >= stream.prevValue ? v - stream.prevValue : v;
        stream.prevValue = v;
      }
      cell.sum += inc;
      cell.n++;
    } else if (mtype === 'SUM') {
      const v = num(rec.value);
      if (v === null) continue;
      (cell.last ??= new Map()).set(sk, v);
    } else if (mtype === 'GAUGE') {
      const v = num(rec.value);
      if (v === null) continue;
      cell.sum += v;
      cell.n++;
    } else if (mtype === 'HISTOGRAM') {
      const counts = numList(rec.bucket_counts);
      const bounds = numList(rec.explicit_bounds);
      if (!counts || !bounds || counts.length !== bounds.length + 1) continue;
      let inc = counts;
      if (cumulative) {
        const prev = stream.prevBuckets;
        inc = prev && prev.length === counts.length && counts.every((c, i) => c >= prev[i]!) ? counts.map((c, i) => c - prev[i]!) : prev || startedInside ? counts : counts.map(() => 0);
        stream.prevBuckets = counts;
      }
      if (!cell.bounds) {
        cell.bounds = bounds;
        cell.buckets = inc.slice();
      } else if (cell.bounds.length === bounds.length && cell.bounds.every((x, i) => x === bounds[i])) {
        for (let i = 0; i < inc.length; i++) cell.buckets![i]! += inc[i]!;
      }
    } else if (mtype === 'EXPONENTIAL_HISTOGRAM') {
      const point = expPoint(rec);
      if (!point) continue;
      let inc: ExpBuckets | null = point;
      if (cumulative) {
        const prev = stream.prevExp;
        inc = prev ? diffExp(point, prev) ?? point : startedInside ? point : null;
        stream.prevExp = point;
      }
      if (inc) cell.exp = cell.exp ? mergeExp(cell.exp, inc) : downscale(inc, inc.scale); // a copy the cell owns
    } else if (mtype === 'SUMMARY') {
      const qs = quantileList(rec.quantiles);
      if (!qs) continue;
      cell.quantiles ??= PERCENTILES.map(() => ({ sum: 0, n: 0 }));
      PERCENTILES.forEach((p, k) => {
        const v = summaryQuantile(p, qs);
        if (v !== null) {
          cell.quantiles![k]!.sum += v;
          cell.quantiles![k]!.n++;
        }
      });
    }
  }
  const times = Array.from({ length: o.buckets }, (_, i) => nsToMs(o.start + BigInt(i) * stepNs));
  const monotonic = rows.some((r) => r.rec.is_monotonic === true);
  const shows = type === 'SUM' ? (monotonic ? 'rate/s' : 'value') : type === 'GAUGE' ? 'value' : type === 'HISTOGRAM' || type === 'EXPONENTIAL_HISTOGRAM' || type === 'SUMMARY' ? 'percentile' : 'mean';
  const series: MetricSeries['series'] = [];
  for (const group of [...cells.keys()].sort()) {
    const byBucket = cells.get(group)!;
    const at = (fn: (c: Cell) => number | null): (number | null)[] => times.map((_, i) => {
      const c = byBucket.get(i);
      return c ? fn(c) : null;
    });
    if (type === 'HISTOGRAM') {
      for (const p of PERCENTILES) series.push({ label: `${group} p${Math.round(p * 100)}`, group, values: at((c) => (c.buckets && c.bounds ? histogramQuantile(p, c.buckets, c.bounds) : null)) });
    } else if (type === 'EXPONENTIAL_HISTOGRAM') {
      for (const p of PERCENTILES) series.push({ label: `${group} p${Math.round(p * 100)}`, group, values: at((c) => (c.exp ? expQuantile(p, c.exp) : null)) });
    } else if (type === 'SUMMARY') {
      PERCENTILES.forEach((p, k) =>
        series.push({ label: `${group} p${Math.round(p * 100)}`, group, values: at((c) => { const v = c.quantiles?.[k]; return v && v.n > 0 ? v.sum / v.n : null; }) }),
      );
    } else if (shows === 'rate/s') series.push({ label: group, group, values: at((c) => (c.n > 0 ? c.sum / stepS : null)) });
    else if (type === 'SUM') series.push({ label: group, group, values: at((c) => (c.last ? [...c.last.values()].reduce((a, b) => a + b, 0) : null)) });
    else series.push({ label: group, group, values: at((c) => (c.n > 0 ? c.sum / c.n : null)) });
  }
  return { name: o.name, type, unit, shows, start_ms: nsToMs(o.start), step_ms: Number(stepNs / 1_000_000n), times, series, points, groups_folded: folded, stats };
}
