/**
 * One Exemplar read from protobuf bytes into a reused object (the one-pass metrics decoder), from
 * bytes the decoder's guard walked whole (`WireDataPoint.read`), so the reads trust them.
 */
import type { WireReader } from '../otlp/wire-reader.js';
import { Ranges } from './wire-span.js';

/** A signed sfixed64. */
function sfixed64(r: WireReader): bigint {
  return BigInt.asIntN(64, r.fixed64());
}

/** One Exemplar read from bytes [start, end) that the guard walked (WireDataPoint.read), into a reused object. */
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
