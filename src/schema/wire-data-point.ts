/**
 * Metric messages read from protobuf bytes without building them (the one-pass metrics
 * decoder): a `WireMetric` (name, description, unit, which `data` member is set, its points'
 * ranges) and one reused `WireDataPoint` that reads a point of any of the five types.
 *
 * protobufjs is the oracle (test/unit/one-pass-metrics.test.ts), so its decoding rules are kept:
 * a later occurrence of a singular field replaces an earlier one; repeated fields keep wire
 * order, packed and unpacked occurrences alike; of a oneof's members, the one *first* seen last
 * wins (its virtual getter reads its own keys in insertion order) with its last value.
 */
import type { WireReader } from '../otlp/wire-reader.js';
import { Ranges } from './wire-span.js';

/** `Metric.data` members by field number; 0 = none. */
export const GAUGE = 5;
export const SUM = 7;
export const HISTOGRAM = 9;
export const EXPONENTIAL_HISTOGRAM = 10;
export const SUMMARY = 11;

const INT64_MAX = 9223372036854775807n;

/** protobufjs `sint32()`. */
function sint32(r: WireReader): number {
  const v = r.uint32();
  return ((v >>> 1) ^ -(v & 1)) | 0;
}

/** A signed sfixed64. */
function sfixed64(r: WireReader): bigint {
  return BigInt.asIntN(64, r.fixed64());
}

/** A uint64 varint as an unsigned bigint. */
function uint64(r: WireReader): bigint {
  r.varint64();
  return (BigInt(r.hi) << 32n) | BigInt(r.lo);
}

export class WireMetric {
  name0 = 0;
  name1 = 0;
  description0 = 0;
  description1 = 0;
  unit0 = 0;
  unit1 = 0;
  /** The `data` member that is set (GAUGE … SUMMARY), 0 when none is. */
  kind = 0;
  temporality = 0;
  isMonotonic = false;
  readonly metadata = new Ranges();
  readonly points = new Ranges();
  private data0 = 0;
  private data1 = 0;

  read(r: WireReader, start: number, end: number): void {
    this.name0 = this.name1 = this.description0 = this.description1 = this.unit0 = this.unit1 = 0;
    this.kind = this.temporality = 0;
    this.isMonotonic = false;
    this.metadata.length = this.points.length = 0;
    let seen = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.varint();
      const field = tag >>> 3;
      switch (field) {
        case 1:
          this.name1 = r.varint() + r.pos;
          this.name0 = r.pos;
          r.pos = this.name1;
          break;
        case 2:
          this.description1 = r.varint() + r.pos;
          this.description0 = r.pos;
          r.pos = this.description1;
          break;
        case 3:
          this.unit1 = r.varint() + r.pos;
          this.unit0 = r.pos;
          r.pos = this.unit1;
          break;
        case GAUGE:
        case SUM:
        case HISTOGRAM:
        case EXPONENTIAL_HISTOGRAM:
        case SUMMARY: {
          const e = r.varint() + r.pos;
          if ((seen & (1 << field)) === 0) {
            seen |= 1 << field;
            this.kind = field;
          }
          // Once a member is the winner, no member seen later for the first time follows it, so
          // every later occurrence of the final winner lands here: its last one counts.
          if (field === this.kind) {
            this.data0 = r.pos;
            this.data1 = e;
          }
          r.pos = e;
          break;
        }
        case 12: {
          const e = r.varint() + r.pos;
          this.metadata.push(r.pos, e);
          r.pos = e;
          break;
        }
        default:
          r.skip(tag & 7);
      }
    }
    if (this.kind !== 0) this.readData(r);
  }

  /** Gauge/Sum/Histogram/ExponentialHistogram/Summary: points (1), temporality (2), monotonic (3, Sum). */
  private readData(r: WireReader): void {
    const end = this.data1;
    r.pos = this.data0;
    while (r.pos < end) {
      const tag = r.varint();
      if (tag === 0x0a) {
        const e = r.varint() + r.pos;
        this.points.push(r.pos, e);
        r.pos = e;
      } else if (tag === 0x10 && this.kind !== GAUGE && this.kind !== SUMMARY) this.temporality = r.int32();
      else if (tag === 0x18 && this.kind === SUM) this.isMonotonic = r.uint32() !== 0;
      else r.skip(tag & 7);
    }
  }
}

/** One data point of any type; fields that its type lacks keep their defaults. */
export class WireDataPoint {
  start = 0n;
  time = 0n;
  flags = 0;
  /** Number points: 0 none, 4 as_double, 6 as_int. */
  valueKind = 0;
  asDouble = 0;
  asInt = 0n;
  count = 0n;
  sum = 0;
  hasSum = false;
  min = 0;
  hasMin = false;
  max = 0;
  hasMax = false;
  /** Histogram bucket counts (clamped to int64) and bounds; exponential buckets below. */
  readonly counts: bigint[] = [];
  nCounts = 0;
  readonly bounds: number[] = [];
  nBounds = 0;
  scale = 0;
  zeroCount = 0n;
  zeroThreshold = 0;
  positiveOffset = 0;
  readonly positive: bigint[] = [];
  nPositive = 0;
  negativeOffset = 0;
  readonly negative: bigint[] = [];
  nNegative = 0;
  readonly attributes = new Ranges();
  readonly exemplars = new Ranges();
  /** Summary quantile values as [quantile, value] pairs. */
  readonly quantiles: number[] = [];
  nQuantiles = 0;

  read(r: WireReader, start: number, end: number, kind: number): void {
    this.start = this.time = this.count = this.zeroCount = this.asInt = 0n;
    this.flags = this.valueKind = this.asDouble = this.sum = this.min = this.max = 0;
    this.hasSum = this.hasMin = this.hasMax = false;
    this.nCounts = this.nBounds = this.nPositive = this.nNegative = this.nQuantiles = 0;
    this.scale = this.zeroThreshold = this.positiveOffset = this.negativeOffset = 0;
    this.attributes.length = this.exemplars.length = 0;
    r.pos = start;
    if (kind === GAUGE || kind === SUM) this.readNumber(r, end);
    else if (kind === HISTOGRAM) this.readHistogram(r, end);
    else if (kind === EXPONENTIAL_HISTOGRAM) this.readExponential(r, end);
    else this.readSummary(r, end);
  }

  private pushRange(list: Ranges, r: WireReader): void {
    const e = r.varint() + r.pos;
    list.push(r.pos, e);
    r.pos = e;
  }

  private readNumber(r: WireReader, end: number): void {
    let seen = 0;
    while (r.pos < end) {
      const tag = r.varint();
      switch (tag) {
        case (7 << 3) | 2:
          this.pushRange(this.attributes, r);
          break;
        case (2 << 3) | 1:
          this.start = r.fixed64();
          break;
        case (3 << 3) | 1:
          this.time = r.fixed64();
          break;
        case (4 << 3) | 1:
          if ((seen & 1) === 0) {
            seen |= 1;
            this.valueKind = 4;
          }
          this.asDouble = r.double();
          break;
        case (6 << 3) | 1:
          if ((seen & 2) === 0) {
            seen |= 2;
            this.valueKind = 6;
          }
          this.asInt = sfixed64(r);
          break;
        case (5 << 3) | 2:
          this.pushRange(this.exemplars, r);
          break;
        case (8 << 3) | 0:
          this.flags = r.uint32();
          break;
        default:
          r.skip(tag & 7);
      }
    }
  }

  private readHistogram(r: WireReader, end: number): void {
    while (r.pos < end) {
      const tag = r.varint();
      switch (tag) {
        case (9 << 3) | 2:
          this.pushRange(this.attributes, r);
          break;
        case (2 << 3) | 1:
          this.start = r.fixed64();
          break;
        case (3 << 3) | 1:
          this.time = r.fixed64();
          break;
        case (4 << 3) | 1:
          this.count = r.fixed64();
          break;
        case (5 << 3) | 1:
          this.sum = r.double();
          this.hasSum = true;
          break;
        case (6 << 3) | 1:
          this.counts[this.nCounts++] = clamp(r.fixed64());
          break;
        case (6 << 3) | 2: {
          const e = r.varint() + r.pos; // packed: the limits walk vouched for a multiple of 8 bytes
          while (r.pos < e) this.counts[this.nCounts++] = clamp(r.fixed64());
          break;
        }
        case (7 << 3) | 1:
          this.bounds[this.nBounds++] = r.double();
          break;
        case (7 << 3) | 2: {
          const e = r.varint() + r.pos;
          while (r.pos < e) this.bounds[this.nBounds++] = r.double();
          break;
        }
        case (8 << 3) | 2:
          this.pushRange(this.exemplars, r);
          break;
        case (10 << 3) | 0:
          this.flags = r.uint32();
          break;
        case (11 << 3) | 1:
          this.min = r.double();
          this.hasMin = true;
          break;
        case (12 << 3) | 1:
          this.max = r.double();
          this.hasMax = true;
          break;
        default:
          r.skip(tag & 7);
      }
    }
  }

  private readExponential(r: WireReader, end: number): void {
    let pos0 = -1;
    let pos1 = -1;
    let neg0 = -1;
    let neg1 = -1;
    while (r.pos < end) {
      const tag = r.varint();
      switch (tag) {
        case (1 << 3) | 2:
          this.pushRange(this.attributes, r);
          break;
        case (2 << 3) | 1:
          this.start = r.fixed64();
          break;
        case (3 << 3) | 1:
          this.time = r.fixed64();
          break;
        case (4 << 3) | 1:
          this.count = r.fixed64();
          break;
        case (5 << 3) | 1:
          this.sum = r.double();
          this.hasSum = true;
          break;
        case (6 << 3) | 0:
          this.scale = sint32(r);
          break;
        case (7 << 3) | 1:
          this.zeroCount = r.fixed64();
          break;
        case (8 << 3) | 2:
          pos1 = r.varint() + r.pos;
          pos0 = r.pos;
          r.pos = pos1;
          break;
        case (9 << 3) | 2:
          neg1 = r.varint() + r.pos;
          neg0 = r.pos;
          r.pos = neg1;
          break;
        case (10 << 3) | 0:
          this.flags = r.uint32();
          break;
        case (11 << 3) | 2:
          this.pushRange(this.exemplars, r);
          break;
        case (12 << 3) | 1:
          this.min = r.double();
          this.hasMin = true;
          break;
        case (13 << 3) | 1:
          this.max = r.double();
          this.hasMax = true;
          break;
        case (14 << 3) | 1:
          this.zeroThreshold = r.double();
          break;
        default:
          r.skip(tag & 7);
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

  /** Buckets {offset = 1 (sint32), bucket_counts = 2 (repeated uint64)}: returns the offset, fills `into`. */
  private readBuckets(r: WireReader, start: number, end: number, into: bigint[]): number {
    let offset = 0;
    let n = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.varint();
      if (tag === 0x08) offset = sint32(r);
      else if (tag === 0x10) into[n++] = clamp(uint64(r));
      else if (tag === 0x12) {
        const e = r.varint() + r.pos; // packed: the walk vouched for whole varints up to e
        while (r.pos < e) into[n++] = clamp(uint64(r));
      } else r.skip(tag & 7);
    }
    this.nBuckets = n;
    return offset;
  }

  private readSummary(r: WireReader, end: number): void {
    const q = this.quantileRanges;
    q.length = 0;
    while (r.pos < end) {
      const tag = r.varint();
      switch (tag) {
        case (7 << 3) | 2:
          this.pushRange(this.attributes, r);
          break;
        case (2 << 3) | 1:
          this.start = r.fixed64();
          break;
        case (3 << 3) | 1:
          this.time = r.fixed64();
          break;
        case (4 << 3) | 1:
          this.count = r.fixed64();
          break;
        case (5 << 3) | 1:
          this.sum = r.double();
          break;
        case (6 << 3) | 2:
          this.pushRange(q, r);
          break;
        case (8 << 3) | 0:
          this.flags = r.uint32();
          break;
        default:
          r.skip(tag & 7);
      }
    }
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

/** uint64 counts go into signed Int64 columns: clamped, not wrapped (as `count` in metrics.ts). */
function clamp(v: bigint): bigint {
  return v > INT64_MAX ? INT64_MAX : v;
}

/** One Exemplar read from bytes [start, end), into a reused object. */
export class WireExemplar {
  time = 0n;
  /** 0 none, 3 as_double, 6 as_int. */
  valueKind = 0;
  asDouble = 0;
  asInt = 0n;
  spanId0 = 0;
  spanId1 = 0;
  traceId0 = 0;
  traceId1 = 0;
  readonly attributes = new Ranges();

  read(r: WireReader, start: number, end: number): void {
    this.time = this.asInt = 0n;
    this.valueKind = this.asDouble = 0;
    this.spanId0 = this.spanId1 = this.traceId0 = this.traceId1 = 0;
    this.attributes.length = 0;
    let seen = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.varint();
      switch (tag) {
        case (7 << 3) | 2: {
          const e = r.varint() + r.pos;
          this.attributes.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (2 << 3) | 1:
          this.time = r.fixed64();
          break;
        case (3 << 3) | 1:
          if ((seen & 1) === 0) {
            seen |= 1;
            this.valueKind = 3;
          }
          this.asDouble = r.double();
          break;
        case (6 << 3) | 1:
          if ((seen & 2) === 0) {
            seen |= 2;
            this.valueKind = 6;
          }
          this.asInt = sfixed64(r);
          break;
        case (4 << 3) | 2:
          this.spanId1 = r.varint() + r.pos;
          this.spanId0 = r.pos;
          r.pos = this.spanId1;
          break;
        case (5 << 3) | 2:
          this.traceId1 = r.varint() + r.pos;
          this.traceId0 = r.pos;
          r.pos = this.traceId1;
          break;
        default:
          r.skip(tag & 7);
      }
    }
  }
}
