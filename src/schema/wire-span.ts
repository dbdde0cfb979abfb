/**
 * One Span read from protobuf bytes without building it: scalars as values, strings and ids as
 * byte ranges of the body, repeated fields as lists of ranges. One instance is reused for every
 * span of a request (the one-pass traces decoder), so reading a span allocates nothing but the
 * bigint times.
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
  start = 0n;
  end = 0n;
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
    this.start = this.end = 0n;
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
          this.start = r.fixed64();
          break;
        case (8 << 3) | 1:
          this.end = r.fixed64();
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
  }
}
