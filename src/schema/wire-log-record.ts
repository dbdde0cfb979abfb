/**
 * One LogRecord read from protobuf bytes without building it: scalars as values, strings, ids
 * and the body as byte ranges of the body, attributes as a list of ranges. One instance is
 * reused for every record of a request (the one-pass logs decoder).
 *
 * Later occurrences of a singular field replace earlier ones and repeated fields keep wire
 * order, as protobufjs decodes them (the oracle of the differential test).
 */
import type { WireReader } from '../otlp/wire-reader.js';
import { Ranges } from './wire-span.js';

export class WireLogRecord {
  time = 0n;
  observedTime = 0n;
  severityNumber = 0;
  /** Ranges are [x0, x1); x0 = -1 when the field is absent. */
  severityText0 = -1;
  severityText1 = -1;
  body0 = -1;
  body1 = -1;
  droppedAttributes = 0;
  flags = 0;
  traceId0 = 0;
  traceId1 = 0;
  spanId0 = 0;
  spanId1 = 0;
  eventName0 = -1;
  eventName1 = -1;
  readonly attributes = new Ranges();

  /** Reads the LogRecord in bytes [start, end). */
  read(r: WireReader, start: number, end: number): void {
    this.time = this.observedTime = 0n;
    this.severityNumber = this.droppedAttributes = this.flags = 0;
    this.severityText0 = this.severityText1 = this.body0 = this.body1 = this.eventName0 = this.eventName1 = -1;
    this.traceId0 = this.traceId1 = this.spanId0 = this.spanId1 = 0;
    this.attributes.length = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.varint();
      switch (tag) {
        case (1 << 3) | 1:
          this.time = r.fixed64();
          break;
        case (11 << 3) | 1:
          this.observedTime = r.fixed64();
          break;
        case (2 << 3) | 0:
          this.severityNumber = r.int32();
          break;
        case (3 << 3) | 2:
          this.severityText1 = r.varint() + r.pos;
          this.severityText0 = r.pos;
          r.pos = this.severityText1;
          break;
        case (5 << 3) | 2:
          this.body1 = r.varint() + r.pos;
          this.body0 = r.pos;
          r.pos = this.body1;
          break;
        case (6 << 3) | 2: {
          const e = r.varint() + r.pos;
          this.attributes.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (7 << 3) | 0:
          this.droppedAttributes = r.uint32();
          break;
        case (8 << 3) | 5:
          this.flags = r.fixed32();
          break;
        case (9 << 3) | 2:
          this.traceId1 = r.varint() + r.pos;
          this.traceId0 = r.pos;
          r.pos = this.traceId1;
          break;
        case (10 << 3) | 2:
          this.spanId1 = r.varint() + r.pos;
          this.spanId0 = r.pos;
          r.pos = this.spanId1;
          break;
        case (12 << 3) | 2:
          this.eventName1 = r.varint() + r.pos;
          this.eventName0 = r.pos;
          r.pos = this.eventName1;
          break;
        default:
          r.skip(tag & 7);
      }
    }
  }
}
