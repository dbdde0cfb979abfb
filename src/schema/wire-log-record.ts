/**
 * One LogRecord read from protobuf bytes without building it: scalars as values, strings, ids
 * and the body as byte ranges of the body, attributes as a list of ranges. One instance is
 * reused for every record of a request (the one-pass logs decoder).
 *
 * Later occurrences of a singular field replace earlier ones and repeated fields keep wire
 * order, as protobufjs decodes them (the oracle of the differential test).
 */
import type { Type } from 'protobufjs';
import { knownFields, messagePlan, type Plan, type WireGuard } from '../otlp/limits.js';
import { loadOtlpRoot } from '../otlp/proto-root.js';
import { wordsToBigInt, type WireReader } from '../otlp/wire-reader.js';
import { PART_DEPTH, Ranges } from './wire-span.js';

let plans: { anyValue: Plan; keyValue: Plan; fields: number } | undefined;

/** The limits walk's plans of a log record's body and attributes, and the record's known fields. */
export function logRecordPlans(): { anyValue: Plan; keyValue: Plan; fields: number } {
  if (plans === undefined) {
    const root = loadOtlpRoot();
    const plan = (name: string) => messagePlan(root.lookupType(name) as Type);
    plans = {
      anyValue: plan('opentelemetry.proto.common.v1.AnyValue'),
      keyValue: plan('opentelemetry.proto.common.v1.KeyValue'),
      fields: knownFields(plan('opentelemetry.proto.logs.v1.LogRecord')),
    };
  }
  return plans;
}

export class WireLogRecord {
  time = 0n;
  /**
   * observed_time_unix_nano as two unsigned 32-bit words (`Int64Builder.appendWords`): no bigint
   * per record; `observedTime` makes one for the rare record without a time.
   */
  observedLo = 0;
  observedHi = 0;
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

  /** observed_time_unix_nano as a bigint (unsigned, as protobufjs reads a fixed64). */
  get observedTime(): bigint {
    return wordsToBigInt(this.observedLo, this.observedHi);
  }

  /**
   * Reads the LogRecord in bytes [start, end) of a body no walk vouched for, checking as the
   * limits walk does: tags, lengths and values inside the record, known fields
   * with their wire types; the body AnyValue is walked by `guard`, the attributes are counted
   * as they are met and checked as they are appended (or by `checkParts` when the record is refused).
   */
  read(r: WireReader, start: number, end: number, guard: WireGuard): void {
    this.time = 0n;
    this.observedLo = this.observedHi = 0;
    this.severityNumber = this.droppedAttributes = this.flags = 0;
    this.severityText0 = this.severityText1 = this.body0 = this.body1 = this.eventName0 = this.eventName1 = -1;
    this.traceId0 = this.traceId1 = this.spanId0 = this.spanId1 = 0;
    this.attributes.length = 0;
    const plans = logRecordPlans();
    let bodies = 0;
    r.pos = start;
    while (r.pos < end) {
      const tag = r.tagIn(end);
      switch (tag) {
        case (1 << 3) | 1:
          r.checkFixed(8, end);
          this.time = r.fixed64();
          break;
        case (11 << 3) | 1:
          r.checkFixed(8, end);
          r.fixed64Words();
          this.observedLo = r.lo;
          this.observedHi = r.hi;
          break;
        case (2 << 3) | 0:
          r.checkVarint32(end);
          this.severityNumber = r.int32();
          break;
        case (3 << 3) | 2:
          this.severityText1 = r.lengthIn(end);
          this.severityText0 = r.pos;
          r.pos = this.severityText1;
          break;
        case (5 << 3) | 2:
          this.body1 = r.lengthIn(end);
          this.body0 = r.pos;
          guard.message(plans.anyValue, this.body0, this.body1, PART_DEPTH);
          bodies++;
          r.pos = this.body1;
          break;
        case (6 << 3) | 2: {
          const e = r.lengthIn(end);
          guard.add(1); // as met: a bomb of empty attributes stops at the limit, not after a list of them
          this.attributes.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (7 << 3) | 0:
          r.checkVarint32(end);
          this.droppedAttributes = r.uint32();
          break;
        case (8 << 3) | 5:
          r.checkFixed(4, end);
          this.flags = r.fixed32();
          break;
        case (9 << 3) | 2:
          this.traceId1 = r.lengthIn(end);
          this.traceId0 = r.pos;
          r.pos = this.traceId1;
          break;
        case (10 << 3) | 2:
          this.spanId1 = r.lengthIn(end);
          this.spanId0 = r.pos;
          r.pos = this.spanId1;
          break;
        case (12 << 3) | 2:
          this.eventName1 = r.lengthIn(end);
          this.eventName0 = r.pos;
          r.pos = this.eventName1;
          break;
        default:
          r.skipIn(tag, end, plans.fields);
      }
    }
    guard.add(bodies); // the record's body AnyValues (its attributes were counted as met)
  }

  /** Walks the attributes of a record that is not appended (refused), which the walk checks all the same. */
  checkParts(guard: WireGuard): void {
    const kv = logRecordPlans().keyValue;
    const a = this.attributes;
    for (let i = 0; i < a.length; i++) guard.message(kv, a.starts[i]!, a.ends[i]!, PART_DEPTH);
  }
}
