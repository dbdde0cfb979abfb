/**
 * Bounds on what decoding a request may cost, checked on the raw bytes before any decoder runs.
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

/** Field number → the plan of its message type (only message-typed, non-map fields). */
type Plan = Map<number, Plan>;

const plans = new WeakMap<Type, Plan>();

function planFor(type: Type): Plan {
  const cached = plans.get(type);
  if (cached) return cached;
  const plan: Plan = new Map();
  plans.set(type, plan); // before recursing: OTLP types are recursive (AnyValue ↔ ArrayValue)
  for (const field of type.fieldsArray) {
    field.resolve();
    const rt = field.resolvedType;
    // A Type (not an Enum) has `fieldsArray`; map fields allocate too but OTLP has none.
    if (rt !== null && 'fieldsArray' in rt && !field.map) plan.set(field.id, planFor(rt as Type));
  }
  return plan;
}

class Stop extends Error {}

/**
 * Counts the messages a protobuf body would decode into and throws INVALID_ARGUMENT when
 * there are too many for its size. Malformed input ends the walk without an error.
 */
export function checkProtobufCost(type: Type, body: Uint8Array): number {
  const limit = maxMessagesFor(body.length);
  let count = 0;
  let pos = 0;

  const varint = (end: number): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end || shift > 63) throw new Stop();
      const b = body[pos++]!;
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };

  const walk = (plan: Plan, end: number, depth: number): void => {
    if (depth > MAX_NESTING_DEPTH) throw new Stop(); // protobufjs reports it
    while (pos < end) {
      const tag = varint(end);
      const wire = tag % 8;
      const field = Math.floor(tag / 8);
      switch (wire) {
        case 0:
          varint(end);
          break;
        case 1:
          pos += 8;
          break;
        case 5:
          pos += 4;
          break;
        case 2: {
          const len = varint(end);
          const stop = pos + len;
          if (stop > end) throw new Stop();
          const sub = plan.get(field);
          if (sub !== undefined) {
            if (++count > limit) throw tooMany(limit, body.length, 'protobuf');
            walk(sub, stop, depth + 1);
          }
          pos = stop;
          break;
        }
        default:
          throw new Stop(); // groups and invalid wire types: the decoder's business
      }
      if (pos > end) throw new Stop();
    }
  };

  try {
    walk(planFor(type), body.length, 0);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  return count;
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
