/**
 * A data point's Exemplars read from protobuf bytes (the one-pass metrics decoder), from bytes
 * the decoder's guard walked whole (`WireDataPoint.read`), so the reads trust them.
 *
 * All of a point's exemplars are read once, into reused arrays: the point is checked from them
 * (`problem`: an exemplar's ids refuse the whole point, before any of its columns is appended)
 * and then appended from them. The 64-bit fields (time, as_int) stay 32-bit words, with no
 * bigint, as the point's own (wire-data-point.ts). Before, each exemplar was read twice (once to
 * check, once to append) and made two bigints each time.
 */
import type { WireReader } from '../otlp/wire-reader.js';
import type { Ranges } from './wire-span.js';

const TWO_32 = 4294967296;

/** A point's exemplars, one array element per exemplar (struct of arrays, reused per point). */
export class WireExemplars {
  length = 0;
  /** time_unix_nano (fixed64) as unsigned words. */
  readonly timeLo: number[] = [];
  readonly timeHi: number[] = [];
  /** 0 none, 3 as_double, 6 as_int (the member first seen last wins, as protobufjs's oneof). */
  readonly valueKind: number[] = [];
  readonly asDouble: number[] = [];
  /** as_int (sfixed64) as two's-complement words. */
  readonly asIntLo: number[] = [];
  readonly asIntHi: number[] = [];
  readonly traceId0: number[] = [];
  readonly traceId1: number[] = [];
  readonly spanId0: number[] = [];
  readonly spanId1: number[] = [];
  /** Exemplar i's filtered attributes are `attributes` [attributesFrom[i], attributesFrom[i + 1]). */
  readonly attributesFrom: number[] = [0];
  readonly attributes: { starts: number[]; ends: number[] } = { starts: [], ends: [] };

  /** Reads the exemplars at `ranges` (bytes the guard walked). */
  read(r: WireReader, ranges: Ranges): void {
    const n = (this.length = ranges.length);
    let attrs = 0;
    for (let i = 0; i < n; i++) {
      attrs = this.readOne(r, i, ranges.starts[i]!, ranges.ends[i]!, attrs);
      this.attributesFrom[i + 1] = attrs;
    }
  }

  /**
   * Why the point cannot be stored because of an exemplar, or null: `validateDataPoint`'s
   * exemplar rules (metrics.ts), with the same messages.
   */
  problem(): string | null {
    for (let i = 0; i < this.length; i++) {
      const traceLen = this.traceId1[i]! - this.traceId0[i]!;
      if (traceLen !== 0 && traceLen !== 16) return `exemplar ${i}: invalid trace_id: expected 16 bytes (32 hex digits) or none, got ${traceLen} bytes`;
      const spanLen = this.spanId1[i]! - this.spanId0[i]!;
      if (spanLen !== 0 && spanLen !== 8) return `exemplar ${i}: invalid span_id: expected 8 bytes (16 hex digits) or none, got ${spanLen} bytes`;
    }
    return null;
  }

  /** Exemplar i's as_int as a double: the words' exact value rounded once, as `Number(bigint)` rounds it. */
  asIntNumber(i: number): number {
    return (this.asIntHi[i]! | 0) * TWO_32 + this.asIntLo[i]!;
  }

  /** Reads exemplar `i` from bytes [start, end); its attributes go after the `attrs` already listed. Returns the new count. */
  private readOne(r: WireReader, i: number, start: number, end: number, attrs: number): number {
    let timeLo = 0;
    let timeHi = 0;
    let valueKind = 0;
    let asDouble = 0;
    let asIntLo = 0;
    let asIntHi = 0;
    let trace0 = 0;
    let trace1 = 0;
    let span0 = 0;
    let span1 = 0;
    let seen = 0;
    const a = this.attributes;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.varint();
      switch (tag) {
        case (7 << 3) | 2: {
          const e = r.varint() + r.pos;
          a.starts[attrs] = r.pos;
          a.ends[attrs++] = e;
          r.pos = e;
          break;
        }
        case (2 << 3) | 1:
          r.fixed64Words();
          timeLo = r.lo;
          timeHi = r.hi;
          break;
        case (3 << 3) | 1:
          if ((seen & 1) === 0) {
            seen |= 1;
            valueKind = 3;
          }
          asDouble = r.double();
          break;
        case (6 << 3) | 1:
          if ((seen & 2) === 0) {
            seen |= 2;
            valueKind = 6;
          }
          r.fixed64Words();
          asIntLo = r.lo;
          asIntHi = r.hi;
          break;
        case (4 << 3) | 2:
          span1 = r.varint() + r.pos;
          span0 = r.pos;
          r.pos = span1;
          break;
        case (5 << 3) | 2:
          trace1 = r.varint() + r.pos;
          trace0 = r.pos;
          r.pos = trace1;
          break;
        default:
          r.skip(tag & 7);
      }
    }
    this.timeLo[i] = timeLo;
    this.timeHi[i] = timeHi;
    this.valueKind[i] = valueKind;
    this.asDouble[i] = asDouble;
    this.asIntLo[i] = asIntLo;
    this.asIntHi[i] = asIntHi;
    this.traceId0[i] = trace0;
    this.traceId1[i] = trace1;
    this.spanId0[i] = span0;
    this.spanId1[i] = span1;
    return attrs;
  }
}
