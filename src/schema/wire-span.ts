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
import type { Type } from 'protobufjs';
import { knownFields, messagePlan, type Plan, type WireGuard } from '../otlp/limits.js';
import { loadOtlpRoot } from '../otlp/proto-root.js';
import { wordsToBigInt, type WireReader } from '../otlp/wire-reader.js';

/** Span's field numbers 1–16, as bits: any of them outside the reader's cases has a wrong wire type. */
const SPAN_FIELDS = 0x1fffe;
/**
 * The depth at which the whole walk reads the fields of a span's events, links, status and
 * attributes (request 0, ResourceSpans 1, ScopeSpans 2, Span 3).
 */
export const PART_DEPTH = 4;

interface SpanPlans {
  readonly event: Plan;
  readonly link: Plan;
  readonly keyValue: Plan;
  /** Status's known field numbers as bits (it is checked in place: `checkStatus`). */
  readonly statusFields: number;
}
let plans: SpanPlans | undefined;

/** The limits walk's plans of a span's sub-messages. */
export function spanPlans(): SpanPlans {
  if (plans === undefined) {
    const root = loadOtlpRoot();
    const plan = (name: string) => messagePlan(root.lookupType(name) as Type);
    plans = {
      event: plan('opentelemetry.proto.trace.v1.Span.Event'),
      link: plan('opentelemetry.proto.trace.v1.Span.Link'),
      statusFields: knownFields(plan('opentelemetry.proto.trace.v1.Status')),
      keyValue: plan('opentelemetry.proto.common.v1.KeyValue'),
    };
  }
  return plans;
}

/**
 * A span's Status in [pos, end), checked in place as the walk checks it (a message string and a
 * code; no sub-message to count): one per span, where a walk call cost ~0.3 % of the daemon.
 */
function checkStatus(r: WireReader, end: number, known: number): void {
  while (r.pos < end) {
    const tag = r.tagIn(end);
    if (tag === 0x12) r.pos = r.lengthIn(end);
    else if (tag === 0x18) {
      r.checkVarint32(end);
      r.varintIn(end);
    } else r.skipIn(tag, end, known);
  }
}

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
   * as protobufjs's path clamps them (`unixNanoToBigInt`): see `clampTimes`. Held in a typed
   * array, not in fields: a word at or above 2^30 is no small integer to V8, so each store into
   * a field boxed it in a fresh heap number (four per span, with the reads that made them:
   * ~80 bytes of garbage a span).
   */
  private readonly words = new Uint32Array(4);
  get startLo(): number {
    return this.words[0]!;
  }
  get startHi(): number {
    return this.words[1]!;
  }
  get endLo(): number {
    return this.words[2]!;
  }
  get endHi(): number {
    return this.words[3]!;
  }
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

  /** How many `status` fields the span held (each is a message the limits count). */
  statuses = 0;

  /**
   * Reads the Span in bytes [start, end), checking as the limits walk does (see WireGuard):
   * every tag, length and value inside the span, every known field with its wire type; the
   * status is checked in place (`checkStatus`); events and links are walked by `guard` (few,
   * and read again when appended); attributes
   * are counted here and checked as they are appended (`appendWireAttributes`), or by
   * `checkParts` for a span that is not appended.
   */
  read(r: WireReader, start: number, end: number, guard: WireGuard): void {
    this.traceId0 = this.traceId1 = this.spanId0 = this.spanId1 = this.parent0 = this.parent1 = 0;
    this.traceState0 = this.traceState1 = this.status0 = this.status1 = -1;
    this.name0 = this.name1 = 0;
    this.kind = this.droppedAttributes = this.droppedEvents = this.droppedLinks = this.flags = 0;
    const words = this.words;
    words[0] = words[1] = words[2] = words[3] = 0;
    this.attributes.length = this.events.length = this.links.length = 0;
    this.statuses = 0;
    const plans = spanPlans();
    r.pos = start;
    while (r.pos < end) {
      const tag = r.tagIn(end);
      switch (tag) {
        case (1 << 3) | 2:
          this.traceId1 = r.lengthIn(end);
          this.traceId0 = r.pos;
          r.pos = this.traceId1;
          break;
        case (2 << 3) | 2:
          this.spanId1 = r.lengthIn(end);
          this.spanId0 = r.pos;
          r.pos = this.spanId1;
          break;
        case (3 << 3) | 2:
          this.traceState1 = r.lengthIn(end);
          this.traceState0 = r.pos;
          r.pos = this.traceState1;
          break;
        case (4 << 3) | 2:
          this.parent1 = r.lengthIn(end);
          this.parent0 = r.pos;
          r.pos = this.parent1;
          break;
        case (5 << 3) | 2:
          this.name1 = r.lengthIn(end);
          this.name0 = r.pos;
          r.pos = this.name1;
          break;
        case (6 << 3) | 0:
          r.checkVarint32(end);
          this.kind = r.int32();
          break;
        case (7 << 3) | 1:
          r.checkFixed(8, end);
          readWords(r.buf, r.pos, words, 0);
          r.pos += 8;
          break;
        case (8 << 3) | 1:
          r.checkFixed(8, end);
          readWords(r.buf, r.pos, words, 2);
          r.pos += 8;
          break;
        case (9 << 3) | 2: {
          const e = r.lengthIn(end);
          this.attributes.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (10 << 3) | 0:
          r.checkVarint32(end);
          this.droppedAttributes = r.uint32();
          break;
        case (11 << 3) | 2: {
          const e = r.lengthIn(end);
          guard.message(plans.event, r.pos, e, PART_DEPTH);
          this.events.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (12 << 3) | 0:
          r.checkVarint32(end);
          this.droppedEvents = r.uint32();
          break;
        case (13 << 3) | 2: {
          const e = r.lengthIn(end);
          guard.message(plans.link, r.pos, e, PART_DEPTH);
          this.links.push(r.pos, e);
          r.pos = e;
          break;
        }
        case (14 << 3) | 0:
          r.checkVarint32(end);
          this.droppedLinks = r.uint32();
          break;
        case (15 << 3) | 2: {
          const e = r.lengthIn(end);
          this.status0 = r.pos;
          checkStatus(r, e, plans.statusFields);
          this.status1 = e;
          this.statuses++;
          r.pos = e;
          break;
        }
        case (16 << 3) | 5:
          r.checkFixed(4, end);
          this.flags = r.fixed32();
          break;
        default:
          r.skipIn(tag, end, SPAN_FIELDS);
      }
    }
    // The span's own sub-messages, as the walk counts them (the span itself is the caller's).
    guard.add(this.attributes.length + this.events.length + this.links.length + this.statuses);
    this.clampTimes();
  }

  /** Walks the attributes of a span that is not appended (refused), which the walk checks all the same. */
  checkParts(guard: WireGuard): void {
    const kv = spanPlans().keyValue;
    const a = this.attributes;
    for (let i = 0; i < a.length; i++) guard.message(kv, a.starts[i]!, a.ends[i]!, PART_DEPTH);
  }

  /**
   * An unsigned fixed64 above int64's maximum (high word ≥ 2^31) is stored as that maximum, as
   * `unixNanoToBigInt` does on protobufjs's path; then the start's bigint is made from the words.
   */
  private clampTimes(): void {
    const words = this.words;
    if (words[1]! >= 0x80000000) {
      words[1] = 0x7fffffff;
      words[0] = 0xffffffff;
    }
    if (words[3]! >= 0x80000000) {
      words[3] = 0x7fffffff;
      words[2] = 0xffffffff;
    }
    this.start = wordsToBigInt(words[0]!, words[1]!);
  }
}

/** The little-endian fixed64 at `at` as two 32-bit words into `out[i]` (low) and `out[i + 1]` (high), no number boxed. */
function readWords(buf: Uint8Array, at: number, out: Uint32Array, i: number): void {
  out[i] = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
  out[i + 1] = buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24);
}
