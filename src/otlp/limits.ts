/**
 * Bounds on what decoding a request may cost, checked on the raw bytes: by the one-pass decoders
 * as they read (`WireGuard`), or by the whole walk before protobufjs decodes (OTLP/JSON is checked
 * by json-check.ts).
 *
 * A decoded message costs far more memory than its wire form: an empty `Span` is 2 bytes of
 * protobuf (`12 00`) or 3 of JSON (`{},`) but ~150 bytes of heap once protobufjs has built it,
 * so a 64 MiB body of empty repeated messages would need ~5 GB. Real telemetry spends tens of
 * bytes per message (ids, names, keys, values). The rule here: a request may hold
 * {@link FREE_MESSAGES} messages whatever its size, and beyond that at most one per
 * {@link MIN_BYTES_PER_MESSAGE} bytes. That caps the decoded size at a small multiple of the
 * body (which is itself limited) without refusing real data.
 *
 * The protobuf walk follows the schema (only fields whose type is a message count and are
 * descended into) and stops quietly at anything malformed, leaving the error to the decoder.
 */
import type { Type } from 'protobufjs';
import { S3ParquetError } from '../errors.js';
import { NotClean } from './wire-reader.js';

/** Messages every request may hold regardless of its size. */
export const FREE_MESSAGES = 50_000;
/** Beyond FREE_MESSAGES, the body must spend at least this many bytes per message. */
export const MIN_BYTES_PER_MESSAGE = 8;
/** Deeper nesting is refused (protobufjs itself stops at 100 levels). */
export const MAX_NESTING_DEPTH = 100;

export function maxMessagesFor(bodyBytes: number): number {
  return FREE_MESSAGES + Math.floor(bodyBytes / MIN_BYTES_PER_MESSAGE);
}

function tooMany(count: number, bytes: number, format: string): S3ParquetError {
  return new S3ParquetError(
    'INVALID_ARGUMENT',
    `${format} request holds more than ${count} messages in ${bytes} bytes; at most ${FREE_MESSAGES} plus one per ${MIN_BYTES_PER_MESSAGE} bytes are accepted`,
  );
}

// ---- protobuf ----------------------------------------------------------------

/** What the walk knows of one field of a message type. */
interface FieldPlan {
  /** The proto field name, for error messages (`time_unix_nano`). */
  readonly name: string;
  /** The wire type the field's type is written with (0 varint, 1 64-bit, 2 length, 5 32-bit). */
  readonly wire: number;
  /** A repeated scalar that may also arrive packed (wire type 2). */
  readonly packable: boolean;
  /** The plan of a message-typed field, descended into and counted. */
  readonly message: Plan | undefined;
  /** A 64-bit varint type, which protobufjs reads with its full-length reader. */
  readonly long: boolean;
}

/** Field number → what the walk checks and where it descends. */
export interface Plan {
  readonly typeName: string;
  /**
   * Indexed by field number (OTLP's are small): an array read per tag, not a Map lookup,
   * which was a fifth of the walk.
   */
  readonly fields: (FieldPlan | undefined)[];
}

const WIRE_OF: Readonly<Record<string, number>> = {
  int32: 0, int64: 0, uint32: 0, uint64: 0, sint32: 0, sint64: 0, bool: 0,
  fixed64: 1, sfixed64: 1, double: 1,
  string: 2, bytes: 2,
  fixed32: 5, sfixed32: 5, float: 5,
};
const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'group start', 'group end', '32-bit', 'invalid (6)', 'invalid (7)'];

const plans = new WeakMap<Type, Plan>();

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function planFor(type: Type): Plan {
  const cached = plans.get(type);
  if (cached) return cached;
  const plan: Plan = { typeName: type.name, fields: [] };
  plans.set(type, plan); // before recursing: OTLP types are recursive (AnyValue ↔ ArrayValue)
  for (const field of type.fieldsArray) {
    field.resolve();
    const rt = field.resolvedType;
    // A Type (not an Enum) has `fieldsArray`; map fields would be messages too, but OTLP has none.
    const isMessage = rt !== null && 'fieldsArray' in rt;
    const wire = isMessage ? 2 : rt !== null ? 0 : WIRE_OF[field.type] ?? 2;
    while (plan.fields.length <= field.id) plan.fields.push(undefined);
    plan.fields[field.id] = {
      name: snakeCase(field.name),
      wire,
      packable: field.repeated && wire !== 2,
      message: isMessage && !field.map ? planFor(rt as Type) : undefined,
      long: field.type === 'int64' || field.type === 'uint64' || field.type === 'sint64',
    };
  }
  return plan;
}

/**
 * Ends the walk. `quiet` ones (nesting too deep, groups) are left to protobufjs, which
 * describes them; the others are malformed bytes inside a known message field, named by path.
 */
class Stop extends Error {
  constructor(readonly quiet = false) {
    super();
  }
}

/** Finds, for a refused body, the request type it most likely is (for the wrong-endpoint hint). */
export type WireHint = (body: Uint8Array) => string | undefined;

export interface WalkResult {
  /** Messages the body decodes into. */
  readonly count: number;
  /** Known fields seen with their expected wire type (how well the body fits the type). */
  readonly known: number;
  /**
   * The walk reached the end: every length fits its message, every known field has its wire
   * type, no group or invalid wire type, nesting within bounds. Only such a body may go to a
   * one-pass decoder; the others go to protobufjs, which describes what is wrong.
   */
  readonly complete: boolean;
}

/**
 * protobufjs reads tags, lengths and 32-bit varints with a reader that takes at most 5 bytes
 * and then skips exactly 5 more, whatever they hold; an encoding of 6 to 9 bytes (legal
 * protobuf, never written by an exporter) makes it read differently from a correct decoder. Such bodies are
 * not `complete`, so protobufjs (the oracle) decodes them and stores what it always stored.
 */
const LONGEST_SHORT_VARINT = 5;

/**
 * Whether bytes [start, stop) are a packed run of whole values of wire type `wire`: fixed-width
 * values fill it exactly; varints end inside it, none longer than protobufjs's reader of that
 * type reads alike (10 bytes for 64-bit types, 5 for the others).
 */
function packedWhole(body: Uint8Array, start: number, stop: number, wire: number, long: boolean): boolean {
  if (wire === 1) return (stop - start) % 8 === 0;
  if (wire === 5) return (stop - start) % 4 === 0;
  let pos = start;
  while (pos < stop) {
    const from = pos;
    while (pos < stop && body[pos]! >= 0x80) pos++;
    if (pos >= stop) return false; // the last varint runs past the run
    pos++;
    if (pos - from > (long ? 10 : LONGEST_SHORT_VARINT)) return false;
  }
  return true;
}

/**
 * The walk's state as fields of one object (was closures over shared variables: every read of
 * `pos` went through a context slot), with a one-byte fast path for varints (tags and most
 * lengths of real telemetry).
 */
class Walker {
  pos = 0;
  count = 0;
  known = 0;
  odd = false;
  /** Whether the last varint read was longer than protobufjs's 32-bit reader handles alike. */
  long = false;
  /** The message field descended into at each depth, and the plan it belongs to (no try/catch per message: it cost a tenth of the walk). */
  readonly fieldAt: FieldPlan[] = [];
  readonly planAt: Plan[] = [];
  /** Depth of the message being walked when a Stop was thrown. */
  depth = 0;

  constructor(
    readonly type: Type,
    readonly body: Uint8Array,
    readonly hint: WireHint | undefined,
    readonly limit: number,
  ) {}

  varint(end: number): number {
    const body = this.body;
    let pos = this.pos;
    if (pos < end) {
      const b = body[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        this.long = false;
        return b;
      }
    }
    const from = pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end || shift > 63) {
        this.pos = pos;
        throw new Stop();
      }
      const b = body[pos++]!;
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        this.pos = pos;
        this.long = pos - from > LONGEST_SHORT_VARINT && pos - from < 10;
        return result;
      }
      shift += 7;
    }
  }

  refuse(detail: string): S3ParquetError {
    const other = this.hint?.(this.body);
    return new S3ParquetError(
      'INVALID_ARGUMENT',
      `malformed protobuf ${this.type.name}: ${detail}` + (other !== undefined ? `; the body reads as an ${other}: was it sent to the wrong endpoint?` : ''),
    );
  }

  where(f: FieldPlan): string {
    return [...this.fieldAt.slice(0, this.depth).map((p) => p.name), f.name].join('.');
  }

  /**
   * A non-quiet Stop inside a message field is that field's fault, named by its path (the
   * innermost one, as each level used to catch and rethrow); at the top level it stays quiet.
   */
  stopped(err: Stop): S3ParquetError | undefined {
    if (err.quiet || this.depth === 0) return undefined;
    const d = this.depth - 1;
    const f = this.fieldAt[d]!;
    const plan = this.planAt[d]!;
    this.depth = d;
    const field = plan.fields.indexOf(f);
    return this.refuse(`field ${this.where(f)} (${plan.typeName} field ${field}) does not hold a valid ${f.message!.typeName} message`);
  }

  walk(plan: Plan, end: number, depth: number): void {
    if (depth > MAX_NESTING_DEPTH) throw new Stop(true); // protobufjs reports it
    const fields = plan.fields;
    const nFields = fields.length;
    while (this.pos < end) {
      const tagStart = this.pos;
      const tag = this.varint(end);
      if (this.pos - tagStart > LONGEST_SHORT_VARINT) this.odd = true; // protobufjs keeps a tag's low 32 bits only
      const wire = tag % 8;
      const field = Math.floor(tag / 8);
      const f = field < nFields ? fields[field] : undefined;
      if (f !== undefined) {
        if (wire !== f.wire && !(f.packable && wire === 2)) {
          throw this.refuse(
            `field ${this.where(f)} (${plan.typeName} field ${field}) arrived as wire type ${wire} (${WIRE_NAMES[wire]}) but is written as ${f.wire} (${WIRE_NAMES[f.wire]})`,
          );
        }
        this.known++;
      }
      switch (wire) {
        case 0:
          this.varint(end);
          if (this.long && f !== undefined && !f.long) this.odd = true;
          break;
        case 1:
          this.pos += 8;
          break;
        case 5:
          this.pos += 4;
          break;
        case 2: {
          const len = this.varint(end);
          if (this.long) this.odd = true;
          const stop = this.pos + len;
          if (stop > end) throw new Stop();
          // A packed run the one-pass decoders can read as protobufjs does: whole values only
          // (protobufjs reads a cut-off last value past the run's end). Others are not `complete`.
          if (f !== undefined && f.packable && !packedWhole(this.body, this.pos, stop, f.wire, f.long)) this.odd = true;
          const sub = f?.message;
          if (sub !== undefined) {
            if (++this.count > this.limit) throw tooMany(this.limit, this.body.length, 'protobuf');
            // Where we are, for the message should the bytes inside be malformed (see `stopped`).
            this.fieldAt[depth] = f!;
            this.planAt[depth] = plan;
            this.depth = depth + 1;
            this.walk(sub, stop, depth + 1);
            this.depth = depth;
          }
          this.pos = stop;
          break;
        }
        default:
          throw new Stop(wire === 3 || wire === 4); // groups: protobufjs skips unknown ones
      }
      if (this.pos > end) throw new Stop();
    }
  }
}

/**
 * Walks a protobuf body along its type's plan: counts messages and known fields, refuses too
 * many messages for the body's size, a known field with a wire type its type is never written
 * with (a metrics request posted to /v1/logs is caught here: its metric names are
 * length-delimited where a log record has a fixed64 time) and malformed bytes inside a known
 * message field, naming the field's path. Malformed bytes at the top level end the walk
 * quietly (Stop), for protobufjs to describe.
 */
export function walkProtobuf(type: Type, body: Uint8Array, hint: WireHint | undefined): WalkResult {
  const w = new Walker(type, body, hint, maxMessagesFor(body.length));
  try {
    w.walk(planFor(type), body.length, 0);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const refused = w.stopped(err);
    if (refused !== undefined) throw refused;
    return { count: w.count, known: w.known, complete: false };
  }
  return { count: w.count, known: w.known, complete: !w.odd };
}

/** The walk's plan of a message type, for a {@link WireGuard}. */
export function messagePlan(type: Type): Plan {
  return planFor(type);
}

/** The field numbers below 32 a plan knows, as bits (for WireReader `skipIn`). */
export function knownFields(plan: Plan): number {
  let bits = 0;
  for (let f = 0; f < plan.fields.length && f < 32; f++) if (plan.fields[f] !== undefined) bits |= 1 << f;
  return bits;
}

/**
 * The limits walk in pieces, for the one-pass decoders (traces, logs, metrics), which check the
 * body as they read it (the walk was a separate pass over the same bytes, ~12 % of decoding).
 * A decoder checks what it reads itself (tags, lengths, wire types, see WireReader's `…In`
 * reads) and counts the messages it reads in place with `add`; the parts it does not read in
 * place (resources, scopes, events, links, exemplars, buckets, uncommon attributes) are walked
 * here along the same plans, into the same count, at the depth the whole walk would reach them.
 *
 * Anything the whole walk would refuse or not call complete throws: `NotClean`, a walk Stop or
 * the walk's own error. The decoder then drops what it read and takes the old road (the whole
 * walk, then protobufjs), which refuses with the same message or decodes as it always did:
 * {@link isNotClean} tells those throws from real errors.
 */
export class WireGuard {
  private readonly w: Walker;

  constructor(type: Type, body: Uint8Array) {
    this.w = new Walker(type, body, undefined, maxMessagesFor(body.length));
  }

  /** Counts `n` messages the decoder reads in place; beyond the body's allowance it is not clean. */
  add(n: number): void {
    const w = this.w;
    if ((w.count += n) > w.limit) throw new NotClean();
  }

  /** Walks the message of `plan` in bytes [start, end), whose fields the whole walk reads at `depth`. */
  message(plan: Plan, start: number, end: number, depth: number): void {
    const w = this.w;
    w.pos = start;
    w.walk(plan, end, depth);
    if (w.odd) throw new NotClean();
  }
}

/** Whether `err` is a checked decoder giving up on a body (see WireGuard), not a real error. */
export function isNotClean(err: unknown): boolean {
  return err instanceof NotClean || err instanceof Stop || err instanceof S3ParquetError;
}

/**
 * Counts the messages a protobuf body would decode into; throws INVALID_ARGUMENT when there
 * are too many for its size, or when its wire types do not fit `type` (see walkProtobuf).
 * `hint` names the request type the body more likely is, for the message.
 */
export function checkProtobufCost(type: Type, body: Uint8Array, hint?: WireHint): number {
  return walkProtobuf(type, body, hint).count;
}

/**
 * How well `body` fits `type`: the number of known fields it holds with their wire types, or
 * -1 when a field does not fit. Only for error hints: it walks the whole body again.
 */
export function wireFit(type: Type, body: Uint8Array): number {
  try {
    return walkProtobuf(type, body, undefined).known;
  } catch {
    return -1;
  }
}

// ---- JSON ----------------------------------------------------------------------

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Counts JSON objects and arrays outside strings (each becomes an object twice: JSON.parse,
 * then protobufjs) and the nesting depth; throws INVALID_ARGUMENT when either is too high.
 * Only a scan: syntax errors are left to JSON.parse.
 */
export function checkJsonCost(body: Uint8Array): number {
  const limit = maxMessagesFor(body.length);
  // OTLP/JSON nests about three levels per protobuf message (object, field object, array).
  const maxDepth = MAX_NESTING_DEPTH * 3;
  let count = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++count > limit) throw tooMany(limit, body.length, 'JSON');
      if (++depth > maxDepth) throw new S3ParquetError('INVALID_ARGUMENT', `malformed JSON: nested deeper than ${maxDepth} levels`);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return count;
}
