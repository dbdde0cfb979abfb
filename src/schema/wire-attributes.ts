/**
 * Attribute maps filled straight from protobuf bytes (the one-pass decoders): each KeyValue's
 * key and value are copied as UTF-8 into the map's key and value columns, with no KeyValue or
 * AnyValue object and no JavaScript string for the common case (a string value in ASCII).
 *
 * The text is the one `anyValueToText` makes from a protobufjs-decoded AnyValue, including its
 * oneof rule (when several members are present, the one *first* seen last wins, as protobufjs's
 * virtual oneof getter reads its own keys in insertion order). Arrays and kvlists, which need
 * JSON, are rare: they are decoded by protobufjs and written by the same function as before.
 */
import type { Type } from 'protobufjs';
import { loadOtlpRoot } from '../otlp/proto-root.js';
import { anyValueToText } from '../otlp/values.js';
import type { AnyValue } from '../otlp/types.js';
import type { WireReader } from '../otlp/wire-reader.js';
import type { Plan, WireGuard } from '../otlp/limits.js';
import type { StringMapBuilder, Utf8Builder } from './columns.js';
import { fitPromoted, type PromotedColumns, type PromotedType, type PromotedValue } from './promoted.js';

let anyValueType: Type | undefined;

/** A protobufjs AnyValue of bytes [start, end), for the rare values that need one (also log bodies that are not a plain string). */
export function decodeAnyValue(r: WireReader, start: number, end: number): AnyValue {
  anyValueType ??= loadOtlpRoot().lookupType('opentelemetry.proto.common.v1.AnyValue');
  return anyValueType.decode(r.buf.subarray(start, end)) as unknown as AnyValue;
}

const NONE = 0;
const STRING = 1;
const BOOL = 2;
const INT = 3;
const DOUBLE = 4;
const ARRAY = 5;
const KVLIST = 6;
const BYTES = 7;

/** What a scan of one AnyValue's bytes found; one reused object, so a scan allocates nothing. */
class AnyValueScan {
  /** The member the oneof reads as set (NONE when none is). */
  winner = NONE;
  /** An array or kvlist member is present: the text needs protobufjs and JSON. */
  complex = false;
  s0 = 0;
  s1 = 0;
  bool = false;
  int = 0n;
  dbl = 0;
  b0 = 0;
  b1 = 0;
}

const scanned = new AnyValueScan();

/** Reads the AnyValue in bytes [start, end) into `out`, with protobufjs's oneof rule (see the header). */
function scanAnyValue(r: WireReader, start: number, end: number, out: AnyValueScan): void {
  let winner = NONE;
  let seen = 0; // bit per member
  out.complex = false;
  r.pos = start;
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field >= STRING && field <= BYTES) {
      if ((seen & (1 << field)) === 0) {
        seen |= 1 << field;
        winner = field;
      }
    }
    switch (field) {
      case STRING:
        out.s1 = r.varint() + r.pos;
        out.s0 = r.pos;
        r.pos = out.s1;
        break;
      case BOOL:
        out.bool = r.uint32() !== 0;
        break;
      case INT:
        out.int = r.int64();
        break;
      case DOUBLE:
        out.dbl = r.double();
        break;
      case ARRAY:
      case KVLIST:
        out.complex = true;
        r.skip(wire);
        break;
      case BYTES:
        out.b1 = r.varint() + r.pos;
        out.b0 = r.pos;
        r.pos = out.b1;
        break;
      default:
        r.skip(wire);
    }
  }
  out.winner = winner;
}

/** Appends the map text of the AnyValue in bytes [start, end) (null when no member is set). */
export function appendAnyValueText(out: Utf8Builder, r: WireReader, start: number, end: number): void {
  const v = scanned;
  scanAnyValue(r, start, end, v);
  if (v.complex) {
    out.append(anyValueToText(decodeAnyValue(r, start, end)));
    return;
  }
  switch (v.winner) {
    case NONE:
      out.appendNull();
      return;
    case STRING:
      out.appendUtf8(r.buf, v.s0, v.s1);
      return;
    case BOOL:
      out.append(v.bool ? 'true' : 'false');
      return;
    case INT:
      out.append(v.int.toString());
      return;
    case DOUBLE:
      out.append(String(v.dbl));
      return;
    default:
      out.append(r.buf.toString('base64', v.b0, v.b1));
  }
}

/**
 * The AnyValue in bytes [start, end) as a value of a promoted column of `type`, or undefined
 * when it does not fit: the rules of `fit` in promoted.ts, read from the bytes (was a
 * protobufjs decode per promoted attribute). Values with an array or kvlist member still go
 * through protobufjs.
 */
function fitWire(type: PromotedType, r: WireReader, start: number, end: number): PromotedValue | undefined {
  const v = scanned;
  scanAnyValue(r, start, end, v);
  if (v.complex) return fitPromoted(type, decodeAnyValue(r, start, end));
  switch (type) {
    case 'string':
      return v.winner === STRING ? r.text(v.s0, v.s1) : undefined;
    case 'int64':
      return v.winner === INT ? v.int : undefined;
    case 'double':
      if (v.winner === DOUBLE) return v.dbl;
      return v.winner === INT ? Number(v.int) : undefined;
    case 'bool':
      return v.winner === BOOL ? v.bool : undefined;
  }
}

/**
 * The varint that fills bytes [start, end) exactly (at most 4 bytes, so below 2^28 and never
 * negative: the int64 text protobufjs makes of it is its plain decimal), or -1 when the bytes
 * are not one whole varint (it ends early and more fields follow, or it runs on).
 */
function smallVarint(buf: Uint8Array, start: number, end: number): number {
  let v = 0;
  let scale = 1;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if ((b < 0x80) !== (i === end - 1)) return -1;
    v += (b & 0x7f) * scale;
    scale *= 128;
  }
  return v;
}

/**
 * A body no walk has vouched for (the one-pass decoders): the KeyValues are checked as they are
 * read, the fast shapes in place (their bytes are the whole check), the others walked by
 * `guard` along the KeyValue `plan` at `depth` (limits.ts WireGuard).
 */
export interface AttributesCheck {
  readonly guard: WireGuard;
  readonly plan: Plan;
  readonly depth: number;
}

/**
 * Appends one map row from the KeyValue messages at `starts[i]..ends[i]` for i in [from, to),
 * letting promoted columns claim theirs first (the caller ends the promoted row).
 */
export function appendWireAttributes(
  map: StringMapBuilder,
  r: WireReader,
  starts: readonly number[],
  ends: readonly number[],
  from: number,
  to: number,
  promoted?: PromotedColumns,
  check?: AttributesCheck,
): void {
  const claim = promoted !== undefined && promoted.specs.length > 0;
  const buf = r.buf;
  for (let i = from; i < to; i++) {
    const end = ends[i]!;
    // Most KeyValues of real traffic are `key: string` with a short string or small int value,
    // written by every exporter as `0a klen key 12 vlen (0a slen text | 18 varint)`: read those
    // bytes in place and copy them straight into the map (no field loop, no AnyValue scan, no
    // bigint). Anything else — a long key, another value member, a repeated field — takes the
    // general path below, which stores the same text.
    const s = starts[i]!;
    let shaped = false; // the bytes are the fast shape (checked by it), whether or not a promoted column claims them
    // (Every length byte of the shape is below 0x80, so no other reading of the bytes exists:
    // when they match, they are the whole check a walk would make — a KeyValue and its AnyValue.)
    if (buf[s] === 0x0a && buf[s + 1]! < 0x80) {
      const fk0 = s + 2;
      const fk1 = fk0 + buf[s + 1]!;
      const fv0 = fk1 + 2;
      if (fv0 <= end && buf[fk1] === 0x12 && buf[fk1 + 1]! < 0x80 && fv0 + buf[fk1 + 1]! === end && end - fv0 >= 2) {
        const member = buf[fv0];
        const int = member === 0x18 && end - fv0 <= 5 ? smallVarint(buf, fv0 + 1, end) : -1;
        const fast = member === 0x0a && buf[fv0 + 1] === end - fv0 - 2 ? STRING : int >= 0 ? INT : NONE;
        shaped = fast !== NONE;
        if (shaped && (!claim || promoted.openIndexAt(buf, fk0, fk1) < 0)) {
          if (check !== undefined) check.guard.add(1); // the AnyValue
          map.keys.appendUtf8(buf, fk0, fk1);
          if (fast === STRING) map.values.appendUtf8(buf, fv0 + 2, end);
          else map.values.appendUint28(int);
          continue;
        }
      }
    }
    if (check !== undefined) {
      if (shaped) check.guard.add(1); // a promoted key in the fast shape: its bytes are checked
      else check.guard.message(check.plan, s, end, check.depth);
    }
    let k0 = 0;
    let k1 = 0;
    let v0 = -1;
    let v1 = -1;
    r.pos = starts[i]!;
    while (r.pos < end) {
      const tag = r.varint();
      if (tag === 0x0a) {
        k1 = r.varint() + r.pos;
        k0 = r.pos;
        r.pos = k1;
      } else if (tag === 0x12) {
        v1 = r.varint() + r.pos;
        v0 = r.pos;
        r.pos = v1; // a later `value` replaces an earlier one, as in protobufjs
      } else r.skip(tag & 7);
    }
    if (claim && v0 >= 0) {
      const index = promoted.openIndexAt(r.buf, k0, k1);
      if (index >= 0) {
        const fitted = fitWire(promoted.specs[index]!.type, r, v0, v1);
        if (fitted !== undefined) {
          promoted.takeAt(index, fitted);
          continue;
        }
      }
    }
    map.keys.appendUtf8(r.buf, k0, k1);
    if (v0 < 0) map.values.appendNull();
    else appendAnyValueText(map.values, r, v0, v1);
  }
  map.endRow();
}
