/**
 * Data points read from protobuf bytes without building them (the one-pass metrics decoder):
 * one reused `WireDataPoint` reads a point of any of the five types (`WireMetric`, wire-metric.ts,
 * lists a metric's points; `WireExemplars`, wire-exemplar.ts, reads its exemplars). Here too: the
 * metric types' field numbers and the limits walk's plans of a metric's parts.
 *
 * protobufjs is the oracle (test/unit/one-pass-metrics.test.ts), so its decoding rules are kept:
 * a later occurrence of a singular field replaces an earlier one; repeated fields keep wire
 * order, packed and unpacked occurrences alike; of a oneof's members, the one *first* seen last
 * wins (its virtual getter reads its own keys in insertion order) with its last value.
 *
 * No walk runs before these reads: they check the body as the limits walk would (limits.ts
 * `WireGuard`, WireReader's `…In` reads) — tags, lengths and fixed-width values inside their
 * message, known fields with their wire types, 6–9-byte varints —, count the messages they read
 * in place and have the guard walk the small parts they do not (metadata, exemplars, buckets,
 * quantiles, a `data` member that loses to a later one). Anything the walk would not call
 * complete throws, and the decoder takes the walk + protobufjs road (convert-metrics-wire.ts).
 */
import type { Type } from 'protobufjs';
import { knownFields, messagePlan, type Plan, type WireGuard } from '../otlp/limits.js';
import { loadOtlpRoot } from '../otlp/proto-root.js';
import { NotClean, type WireReader } from '../otlp/wire-reader.js';
import { Ranges } from './wire-span.js';

/** `Metric.data` members by field number; 0 = none. */
export const GAUGE = 5;
export const SUM = 7;
export const HISTOGRAM = 9;
export const EXPONENTIAL_HISTOGRAM = 10;
export const SUMMARY = 11;

const TWO_32 = 4294967296;

/**
 * The depths at which the whole walk reads the fields of a Metric (request 0, ResourceMetrics 1,
 * ScopeMetrics 2), of its `data` member, of a data point, and of a point's parts (attributes,
 * exemplars, buckets, quantiles) — and of a metric's metadata KeyValues (METRIC_DEPTH + 1).
 */
export const METRIC_DEPTH = 3;
export const DATA_DEPTH = 4;
export const POINT_PART_DEPTH = 6;

interface MetricPlans {
  readonly keyValue: Plan;
  readonly exemplar: Plan;
  readonly buckets: Plan;
  readonly quantile: Plan;
  /** The `data` members' plans by field number (GAUGE … SUMMARY), for a member that loses. */
  readonly data: readonly (Plan | undefined)[];
  readonly metricFields: number;
  /** Known field numbers as bits, by `data` member field number: of the member, of its points. */
  readonly dataFields: readonly number[];
  readonly pointFields: readonly number[];
}
let plans: MetricPlans | undefined;

/** The limits walk's plans of a metric's parts, and the known fields of what is read in place. */
export function metricPlans(): MetricPlans {
  if (plans === undefined) {
    const root = loadOtlpRoot();
    const plan = (name: string) => messagePlan(root.lookupType(`opentelemetry.proto.${name}`) as Type);
    const data: (Plan | undefined)[] = [];
    const dataFields: number[] = [];
    const pointFields: number[] = [];
    const members: [number, string, string][] = [
      [GAUGE, 'Gauge', 'NumberDataPoint'],
      [SUM, 'Sum', 'NumberDataPoint'],
      [HISTOGRAM, 'Histogram', 'HistogramDataPoint'],
      [EXPONENTIAL_HISTOGRAM, 'ExponentialHistogram', 'ExponentialHistogramDataPoint'],
      [SUMMARY, 'Summary', 'SummaryDataPoint'],
    ];
    for (const [field, type, point] of members) {
      data[field] = plan(`metrics.v1.${type}`);
      dataFields[field] = knownFields(data[field]);
      pointFields[field] = knownFields(plan(`metrics.v1.${point}`));
    }
    plans = {
      keyValue: plan('common.v1.KeyValue'),
      exemplar: plan('metrics.v1.Exemplar'),
      buckets: plan('metrics.v1.ExponentialHistogramDataPoint.Buckets'),
      quantile: plan('metrics.v1.SummaryDataPoint.ValueAtQuantile'),
      data,
      metricFields: knownFields(plan('metrics.v1.Metric')),
      dataFields,
      pointFields,
    };
  }
  return plans;
}


/** protobufjs `sint32()`. */
function sint32(r: WireReader): number {
  const v = r.uint32();
  return ((v >>> 1) ^ -(v & 1)) | 0;
}

/**
 * One data point of any type; fields that its type lacks keep their defaults. The 64-bit
 * integers bound for Int64 columns are kept as two 32-bit words (`…Lo`, `…Hi`, unsigned; bucket
 * counts clamped to 2^63 − 1 as they are read, the others as they are appended), written with
 * `Int64Builder.appendWords` / `appendClampedWords`: no
 * bigint per value (a histogram point held ~15 of them). Only the point's time is a bigint (the
 * partitioner and the batch's time range need it).
 */
export class WireDataPoint {
  startLo = 0;
  startHi = 0;
  time = 0n;
  flags = 0;
  /** Number points: 0 none, 4 as_double, 6 as_int. */
  valueKind = 0;
  asDouble = 0;
  /** as_int (sfixed64) as words; `asIntNumber` is its value as a double (as `Number(bigint)`). */
  asIntLo = 0;
  asIntHi = 0;
  countLo = 0;
  countHi = 0;
  sum = 0;
  hasSum = false;
  min = 0;
  hasMin = false;
  max = 0;
  hasMax = false;
  /** Histogram bucket counts (clamped to int64) as [lo, hi] word pairs, and bounds; exponential buckets below. */
  readonly counts: number[] = [];
  nCounts = 0;
  readonly bounds: number[] = [];
  nBounds = 0;
  scale = 0;
  zeroCountLo = 0;
  zeroCountHi = 0;
  zeroThreshold = 0;
  positiveOffset = 0;
  readonly positive: number[] = [];
  nPositive = 0;
  negativeOffset = 0;
  readonly negative: number[] = [];
  nNegative = 0;
  readonly attributes = new Ranges();
  readonly exemplars = new Ranges();
  /** Summary quantile values as [quantile, value] pairs. */
  readonly quantiles: number[] = [];
  nQuantiles = 0;

  /**
   * Reads (and checks) the point in bytes [start, end) of `Metric.data` member `kind`. The
   * point's KeyValues are counted as they are met and checked as they are appended (or by `checkParts`
   * when the point is refused); its exemplars, buckets and quantiles are walked by `guard`.
   */
  read(r: WireReader, start: number, end: number, kind: number, guard: WireGuard): void {
    this.time = 0n;
    this.startLo = this.startHi = this.countLo = this.countHi = this.zeroCountLo = this.zeroCountHi = this.asIntLo = this.asIntHi = 0;
    this.flags = this.valueKind = this.asDouble = this.sum = this.min = this.max = 0;
    this.hasSum = this.hasMin = this.hasMax = false;
    this.nCounts = this.nBounds = this.nPositive = this.nNegative = this.nQuantiles = 0;
    this.scale = this.zeroThreshold = this.positiveOffset = this.negativeOffset = 0;
    this.attributes.length = this.exemplars.length = 0;
    const p = metricPlans();
    const known = p.pointFields[kind]!;
    r.pos = start;
    if (kind === GAUGE || kind === SUM) this.readNumber(r, end, known, guard);
    else if (kind === HISTOGRAM) this.readHistogram(r, end, known, guard);
    else if (kind === EXPONENTIAL_HISTOGRAM) this.readExponential(r, end, known, guard, p);
    else this.readSummary(r, end, known, guard, p);
    // The exemplars (counted as met) walked whole; the attributes (counted) are checked when appended.
    const ex = this.exemplars;
    for (let i = 0; i < ex.length; i++) guard.message(p.exemplar, ex.starts[i]!, ex.ends[i]!, POINT_PART_DEPTH);
  }

  /** Walks the attributes of a point that is not appended (refused), which the walk checks all the same. */
  checkParts(guard: WireGuard): void {
    const kv = metricPlans().keyValue;
    const a = this.attributes;
    for (let i = 0; i < a.length; i++) guard.message(kv, a.starts[i]!, a.ends[i]!, POINT_PART_DEPTH);
  }

  /** as_int as a double: the words' exact value rounded once, as `Number(bigint)` rounds it. */
  get asIntNumber(): number {
    return (this.asIntHi | 0) * TWO_32 + this.asIntLo;
  }

  /** A KeyValue or Exemplar: counted as met, so a bomb of them stops at the limit, not after a list of them. */
  private pushRange(list: Ranges, r: WireReader, end: number, guard: WireGuard): void {
    const e = r.lengthIn(end);
    guard.add(1);
    list.push(r.pos, e);
    r.pos = e;
  }

  private readNumber(r: WireReader, end: number, known: number, guard: WireGuard): void {
    let seen = 0;
    while (r.pos < end) {
      const tag = r.tagIn(end);
      switch (tag) {
        case (7 << 3) | 2:
          this.pushRange(this.attributes, r, end, guard);
          break;
        case (2 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.startLo = r.lo;
          this.startHi = r.hi;
          break;
        case (3 << 3) | 1:
          r.checkFixed(8, end);
          this.time = r.fixed64();
          break;
        case (4 << 3) | 1:
          r.checkFixed(8, end);
          if ((seen & 1) === 0) {
            seen |= 1;
            this.valueKind = 4;
          }
          this.asDouble = r.double();
          break;
        case (6 << 3) | 1:
          r.checkFixed(8, end);
          if ((seen & 2) === 0) {
            seen |= 2;
            this.valueKind = 6;
          }
          r.fixed64Words();
          this.asIntLo = r.lo;
          this.asIntHi = r.hi;
          break;
        case (5 << 3) | 2:
          this.pushRange(this.exemplars, r, end, guard);
          break;
        case (8 << 3) | 0:
          r.checkVarint32(end);
          this.flags = r.uint32();
          break;
        default:
          r.skipIn(tag, end, known);
      }
    }
  }

  private readHistogram(r: WireReader, end: number, known: number, guard: WireGuard): void {
    while (r.pos < end) {
      const tag = r.tagIn(end);
      switch (tag) {
        case (9 << 3) | 2:
          this.pushRange(this.attributes, r, end, guard);
          break;
        case (2 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.startLo = r.lo;
          this.startHi = r.hi;
          break;
        case (3 << 3) | 1:
          r.checkFixed(8, end);
          this.time = r.fixed64();
          break;
        case (4 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.countLo = r.lo;
          this.countHi = r.hi;
          break;
        case (5 << 3) | 1:
          r.checkFixed(8, end);
          this.sum = r.double();
          this.hasSum = true;
          break;
        case (6 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.nCounts = pushClamped(this.counts, this.nCounts, r.lo, r.hi);
          break;
        case (6 << 3) | 2: {
          const e = packedFixed64(r, end);
          while (r.pos < e) {
            r.fixed64Words();
            this.nCounts = pushClamped(this.counts, this.nCounts, r.lo, r.hi);
          }
          break;
        }
        case (7 << 3) | 1:
          r.checkFixed(8, end);
          this.bounds[this.nBounds++] = r.double();
          break;
        case (7 << 3) | 2: {
          const e = packedFixed64(r, end);
          while (r.pos < e) this.bounds[this.nBounds++] = r.double();
          break;
        }
        case (8 << 3) | 2:
          this.pushRange(this.exemplars, r, end, guard);
          break;
        case (10 << 3) | 0:
          r.checkVarint32(end);
          this.flags = r.uint32();
          break;
        case (11 << 3) | 1:
          r.checkFixed(8, end);
          this.min = r.double();
          this.hasMin = true;
          break;
        case (12 << 3) | 1:
          r.checkFixed(8, end);
          this.max = r.double();
          this.hasMax = true;
          break;
        default:
          r.skipIn(tag, end, known);
      }
    }
  }

  private readExponential(r: WireReader, end: number, known: number, guard: WireGuard, p: MetricPlans): void {
    let pos0 = -1;
    let pos1 = -1;
    let neg0 = -1;
    let neg1 = -1;
    while (r.pos < end) {
      const tag = r.tagIn(end);
      switch (tag) {
        case (1 << 3) | 2:
          this.pushRange(this.attributes, r, end, guard);
          break;
        case (2 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.startLo = r.lo;
          this.startHi = r.hi;
          break;
        case (3 << 3) | 1:
          r.checkFixed(8, end);
          this.time = r.fixed64();
          break;
        case (4 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.countLo = r.lo;
          this.countHi = r.hi;
          break;
        case (5 << 3) | 1:
          r.checkFixed(8, end);
          this.sum = r.double();
          this.hasSum = true;
          break;
        case (6 << 3) | 0:
          r.checkVarint32(end);
          this.scale = sint32(r);
          break;
        case (7 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.zeroCountLo = r.lo;
          this.zeroCountHi = r.hi;
          break;
        case (8 << 3) | 2:
          // Buckets are walked whole by the guard (their packed varints included), then read trusting.
          pos1 = r.lengthIn(end);
          pos0 = r.pos;
          guard.add(1);
          guard.message(p.buckets, pos0, pos1, POINT_PART_DEPTH);
          r.pos = pos1;
          break;
        case (9 << 3) | 2:
          neg1 = r.lengthIn(end);
          neg0 = r.pos;
          guard.add(1);
          guard.message(p.buckets, neg0, neg1, POINT_PART_DEPTH);
          r.pos = neg1;
          break;
        case (10 << 3) | 0:
          r.checkVarint32(end);
          this.flags = r.uint32();
          break;
        case (11 << 3) | 2:
          this.pushRange(this.exemplars, r, end, guard);
          break;
        case (12 << 3) | 1:
          r.checkFixed(8, end);
          this.min = r.double();
          this.hasMin = true;
          break;
        case (13 << 3) | 1:
          r.checkFixed(8, end);
          this.max = r.double();
          this.hasMax = true;
          break;
        case (14 << 3) | 1:
          r.checkFixed(8, end);
          this.zeroThreshold = r.double();
          break;
        default:
          r.skipIn(tag, end, known);
      }
    }
    if (pos0 >= 0) {
      this.positiveOffset = this.readBuckets(r, pos0, pos1, this.positive);
      this.nPositive = this.nBuckets;
    }
    if (neg0 >= 0) {
      this.negativeOffset = this.readBuckets(r, neg0, neg1, this.negative);
      this.nNegative = this.nBuckets;
    }
  }

  private nBuckets = 0;

  /**
   * Buckets {offset = 1 (sint32), bucket_counts = 2 (repeated uint64)}, which the guard walked:
   * returns the offset, fills `into`.
   */
  private readBuckets(r: WireReader, start: number, end: number, into: number[]): number {
    let offset = 0;
    let n = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.varint();
      if (tag === 0x08) offset = sint32(r);
      else if (tag === 0x10) {
        r.varint64();
        n = pushClamped(into, n, r.lo, r.hi);
      } else if (tag === 0x12) {
        const e = r.varint() + r.pos; // packed: the walk vouched for whole varints up to e
        while (r.pos < e) {
          r.varint64();
          n = pushClamped(into, n, r.lo, r.hi);
        }
      } else r.skip(tag & 7);
    }
    this.nBuckets = n;
    return offset;
  }

  private readSummary(r: WireReader, end: number, known: number, guard: WireGuard, p: MetricPlans): void {
    const q = this.quantileRanges;
    q.length = 0;
    while (r.pos < end) {
      const tag = r.tagIn(end);
      switch (tag) {
        case (7 << 3) | 2:
          this.pushRange(this.attributes, r, end, guard);
          break;
        case (2 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.startLo = r.lo;
          this.startHi = r.hi;
          break;
        case (3 << 3) | 1:
          r.checkFixed(8, end);
          this.time = r.fixed64();
          break;
        case (4 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.countLo = r.lo;
          this.countHi = r.hi;
          break;
        case (5 << 3) | 1:
          r.checkFixed(8, end);
          this.sum = r.double();
          break;
        case (6 << 3) | 2: {
          const e = r.lengthIn(end);
          guard.add(1);
          guard.message(p.quantile, r.pos, e, POINT_PART_DEPTH);
          q.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (8 << 3) | 0:
          r.checkVarint32(end);
          this.flags = r.uint32();
          break;
        default:
          r.skipIn(tag, end, known);
      }
    }
    // The quantile values, walked above: read trusting.
    for (let i = 0; i < q.length; i++) {
      let quantile = 0;
      let value = 0;
      const e = q.ends[i]!;
      r.pos = q.starts[i]!;
      while (r.pos < e) {
        const tag = r.varint();
        if (tag === 0x09) quantile = r.double();
        else if (tag === 0x11) value = r.double();
        else r.skip(tag & 7);
      }
      this.quantiles[this.nQuantiles * 2] = quantile;
      this.quantiles[this.nQuantiles * 2 + 1] = value;
      this.nQuantiles++;
    }
  }

  private readonly quantileRanges = new Ranges();
}

/**
 * A packed run of fixed64 or double values inside `end`: its end, with `pos` at its start. The
 * walk calls a run that is not whole values odd (protobufjs would read past it).
 */
function packedFixed64(r: WireReader, end: number): number {
  const e = r.lengthIn(end);
  if ((e - r.pos) % 8 !== 0) throw new NotClean();
  return e;
}

/**
 * Appends the uint64 of unsigned words `lo`, `hi` to `into` as the `n`-th [lo, hi] pair,
 * clamped to 2^63 − 1 (uint64 counts go into signed Int64 columns: clamped, not wrapped, as
 * `count` in metrics.ts); returns n + 1.
 */
function pushClamped(into: number[], n: number, lo: number, hi: number): number {
  const over = overInt64(hi);
  into[2 * n] = over ? 0xffffffff : lo;
  into[2 * n + 1] = over ? 0x7fffffff : hi;
  return n + 1;
}

/** Whether unsigned words `hi` hold a uint64 beyond 2^63 − 1 (then clamped). */
function overInt64(hi: number): boolean {
  return hi >= 0x80000000;
}
