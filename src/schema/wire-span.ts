/**
 * One Span read from protobuf bytes without building it: scalars as values, strings and ids as
 * byte ranges of the body, repeated fields as lists of ranges. One instance is reused for every
 * span of a request (the one-pass traces decoder), so reading a span allocates nothing but the
 * start time's bigint (the partitioner and the batch's time range need it); the end time stays
 * two 32-bit words, written into the columns as they are.
 *
 * Later occurrences of a singular field replace earlier ones and repeated fields keep wire
 * order, as protobufjs decodes them (it is the oracle of the differential test).
 */
import type { WireReader } from '../otlp/wire-reader.js';

/** Growable start/end lists of sub-message ranges. */
export class Ranges {
  starts: number[] = [];
  ends: number[] = [];
  length = 0;

  push(start: number, end: number): void {
    this.starts[this.length] = start;
    this.ends[this.length] = end;
    this.length++;
  }
}

export class WireSpan {
  traceId0 = 0;
  traceId1 = 0;
  spanId0 = 0;
  spanId1 = 0;
  parent0 = 0;
  parent1 = 0;
  /** -1 when absent. */
  traceState0 = -1;
  traceState1 = -1;
  name0 = 0;
  name1 = 0;
  kind = 0;
  /**
   * The times as unsigned 32-bit halves of the fixed64 (`lo`, `hi`), clamped to int64's maximum
   * as protobufjs's path clamps them (`unixNanoToBigInt`): see `clampTimes`.
   */
  startLo = 0;
  startHi = 0;
  endLo = 0;
  endHi = 0;
  /** The start time in ns (clamped), for the partitioner and the batch's time range. */
  start = 0n;
  droppedAttributes = 0;
  droppedEvents = 0;
  droppedLinks = 0;
  flags = 0;
  /** -1 when the span has no status message. */
  status0 = -1;
  status1 = -1;
  readonly attributes = new Ranges();
  readonly events = new Ranges();
  readonly links = new Ranges();

  /** Reads the Span in bytes [start, end). */
  read(r: WireReader, start: number, end: number): void {
    this.traceId0 = this.traceId1 = this.spanId0 = this.spanId1 = this.parent0 = this.parent1 = 0;
    this.traceState0 = this.traceState1 = this.status0 = this.status1 = -1;
    this.name0 = this.name1 = 0;
    this.kind = this.droppedAttributes = this.droppedEvents = this.droppedLinks = this.flags = 0;
    this.startLo = this.startHi = this.endLo = this.endHi = 0;
    this.attributes.length = this.events.length = this.links.length = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.varint();
      switch (tag) {
        case (1 << 3) | 2:
          this.traceId1 = r.varint() + r.pos;
          this.traceId0 = r.pos;
          r.pos = this.traceId1;
          break;
        case (2 << 3) | 2:
          this.spanId1 = r.varint() + r.pos;
          this.spanId0 = r.pos;
          r.pos = this.spanId1;
          break;
        case (3 << 3) | 2:
          this.traceState1 = r.varint() + r.pos;
          this.traceState0 = r.pos;
          r.pos = this.traceState1;
          break;
        case (4 << 3) | 2:
          this.parent1 = r.varint() + r.pos;
          this.parent0 = r.pos;
          r.pos = this.parent1;
          break;
        case (5 << 3) | 2:
          this.name1 = r.varint() + r.pos;
          this.name0 = r.pos;
          r.pos = this.name1;
          break;
        case (6 << 3) | 0:
          this.kind = r.int32();
          break;
        case (7 << 3) | 1:
          this.startLo = r.buf.readUInt32LE(r.pos);
          this.startHi = r.buf.readUInt32LE(r.pos + 4);
          r.pos += 8;
          break;
        case (8 << 3) | 1:
          this.endLo = r.buf.readUInt32LE(r.pos);
          this.endHi = r.buf.readUInt32LE(r.pos + 4);
          r.pos += 8;
          break;
        case (9 << 3) | 2: {
          const e = r.varint() + r.pos;
          this.attributes.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (10 << 3) | 0:
          this.droppedAttributes = r.uint32();
          break;
        case (11 << 3) | 2: {
          const e = r.varint() + r.pos;
          this.events.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (12 << 3) | 0:
          this.droppedEvents = r.uint32();
          break;
        case (13 << 3) | 2: {
          const e = r.varint() + r.pos;
          this.links.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (14 << 3) | 0:
          this.droppedLinks = r.uint32();
          break;
        case (15 << 3) | 2: {
          const e = r.varint() + r.pos;
          this.status0 = r.pos;
          this.status1 = e;
          r.pos = e;
          break;
        }
        case (16 << 3) | 5:
          this.flags = r.fixed32();
          break;
        default:
          r.skip(tag & 7);
      }
    }
    this.clampTimes();
  }

  /**
   * An unsigned fixed64 above int64's maximum (high word ≥ 2^31) is stored as that maximum, as
   * `unixNanoToBigInt` does on protobufjs's path; then the start's bigint is made from the words.
   */
  private clampTimes(): void {
    if (this.startHi >= 0x80000000) {
      this.startHi = 0x7fffffff;
      this.startLo = 0xffffffff;
    }
    if (this.endHi >= 0x80000000) {
      this.endHi = 0x7fffffff;
      this.endLo = 0xffffffff;
    }
    const hi = this.startHi;
    // Below 2^53 the value is an exact double (one bigint from a number); above, two halves.
    this.start = hi < 0x200000 ? BigInt(hi * 4294967296 + this.startLo) : (BigInt(hi) << 32n) | BigInt(this.startLo);
  }
}
