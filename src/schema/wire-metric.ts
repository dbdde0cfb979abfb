/**
 * One Metric read from protobuf bytes without building it (the one-pass metrics decoder): name,
 * description, unit, metadata, which `data` member is set, its temporality and monotonicity, and
 * its points' ranges (read by `WireDataPoint`, wire-data-point.ts). Checked as it reads, as the
 * limits walk would check it (see wire-data-point.ts's head comment).
 */
import type { WireGuard } from '../otlp/limits.js';
import type { WireReader } from '../otlp/wire-reader.js';
import { DATA_DEPTH, EXPONENTIAL_HISTOGRAM, GAUGE, HISTOGRAM, METRIC_DEPTH, metricPlans, SUM, SUMMARY } from './wire-data-point.js';
import { Ranges } from './wire-span.js';

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
  /** Every `data` occurrence (field, start, end), for the guard to walk those that lose. */
  private readonly occurrences: number[] = [];

  /** Reads (and checks, see the head comment) the Metric in bytes [start, end) and lists its points. */
  read(r: WireReader, start: number, end: number, guard: WireGuard): void {
    this.name0 = this.name1 = this.description0 = this.description1 = this.unit0 = this.unit1 = 0;
    this.kind = this.temporality = 0;
    this.isMonotonic = false;
    this.metadata.length = this.points.length = 0;
    const occurrences = this.occurrences;
    occurrences.length = 0;
    const p = metricPlans();
    let seen = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.tagIn(end);
      switch (tag) {
        case (1 << 3) | 2:
          this.name1 = r.lengthIn(end);
          this.name0 = r.pos;
          r.pos = this.name1;
          break;
        case (2 << 3) | 2:
          this.description1 = r.lengthIn(end);
          this.description0 = r.pos;
          r.pos = this.description1;
          break;
        case (3 << 3) | 2:
          this.unit1 = r.lengthIn(end);
          this.unit0 = r.pos;
          r.pos = this.unit1;
          break;
        case (GAUGE << 3) | 2:
        case (SUM << 3) | 2:
        case (HISTOGRAM << 3) | 2:
        case (EXPONENTIAL_HISTOGRAM << 3) | 2:
        case (SUMMARY << 3) | 2: {
          const field = tag >>> 3;
          const e = r.lengthIn(end);
          guard.add(1);
          occurrences.push(field, r.pos, e);
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
        case (12 << 3) | 2: {
          const e = r.lengthIn(end);
          guard.add(1);
          guard.message(p.keyValue, r.pos, e, METRIC_DEPTH + 1);
          this.metadata.push(r.pos, e);
          r.pos = e;
          break;
        }
        default:
          r.skipIn(tag, end, p.metricFields);
      }
    }
    // The occurrences protobufjs decodes and drops: the walk checks them all the same.
    for (let i = 0; i < occurrences.length; i += 3) {
      if (occurrences[i + 1] !== this.data0 || occurrences[i] !== this.kind) guard.message(p.data[occurrences[i]!]!, occurrences[i + 1]!, occurrences[i + 2]!, DATA_DEPTH);
    }
    if (this.kind !== 0) this.readData(r, guard, p.dataFields[this.kind]!);
  }

  /**
   * Gauge/Sum/Histogram/ExponentialHistogram/Summary: points (1), temporality (2), monotonic (3,
   * Sum). The check and count are a pass of their own before the points are listed: a bomb of
   * empty points then stops at the limit without a growing list (listing as it counted, a 1 MiB
   * bomb cost ~3× the walk's CPU before it gave up; see wire-group.ts `readWireGroupChecked`).
   */
  private readData(r: WireReader, guard: WireGuard, known: number): void {
    const end = this.data1;
    const kind = this.kind;
    r.pos = this.data0;
    while (r.pos < end) {
      const tag = r.tagIn(end);
      if (tag === 0x0a) {
        r.pos = r.lengthIn(end);
        guard.add(1);
      } else if (tag === 0x10 && kind !== GAUGE && kind !== SUMMARY) {
        r.checkVarint32(end);
        this.temporality = r.int32();
      } else if (tag === 0x18 && kind === SUM) {
        r.checkVarint32(end);
        this.isMonotonic = r.uint32() !== 0;
      } else r.skipIn(tag, end, known);
    }
    // Checked: list the points trusting the bytes.
    r.pos = this.data0;
    while (r.pos < end) {
      const tag = r.varint();
      if (tag === 0x0a) {
        const e = r.varint() + r.pos;
        this.points.push(r.pos, e);
        r.pos = e;
      } else r.skip(tag & 7);
    }
  }
}
