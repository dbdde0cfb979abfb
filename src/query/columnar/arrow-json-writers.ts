/**
 * JSON writers over decoded Arrow data (parquet-wasm's record batches): each writes row `i` of
 * one column straight from the Arrow buffers (validity bits, offsets, values) into the output,
 * byte for byte what `jsonWriterFor` (json-writers.ts) writes for the value hyparquet decodes
 * from the same Parquet column — no JS value per cell but for the 64-bit integers that do not
 * fit a double's 53 bits and the timestamps.
 *
 * Where JS semantics shape today's JSON they are reproduced: a map is a plain object built by
 * assignment (hyparquet's `obj[key] = value`), so integer-like keys come first in ascending
 * order, the last of duplicate keys wins (in the first one's place) and a `__proto__` key is
 * no key. A map row holding such a key is built as that object and written by the record path's
 * writer; any other map row is written from the buffers.
 *
 * `arrowJsonWriterFor` answers null for a type it does not cover: the caller reads such a
 * dataset through the scan instead.
 */
import { DataType, type Data, type Field } from 'apache-arrow';
import type { JsonBytes } from './json-bytes.js';
import { jsonWriterFor } from './json-writers.js';

/** Writes row `i` (counted from the start of the Data, before its offset) as JSON. */
export type RowWriter = (out: JsonBytes, i: number) => void;

/** Makes the writer of one Data of a column's type (one per record batch). */
export type RowWriterMaker = (data: Data) => RowWriter;

const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_LIST = 0x5b;
const CLOSE_LIST = 0x5d;
const TWO_32 = 2 ** 32;
/** Integer-like names, which JSON.stringify would move to the front of an object. */
const INDEX_LIKE = /^(0|[1-9]\d*)$/;
const encoder = new TextEncoder();

/** Whether row `i` (already shifted by the Data's offset) is valid. */
function validity(data: Data): ((at: number) => boolean) | null {
  const bits = data.nullBitmap;
  if (data.nullCount === 0 || bits === undefined || bits.length === 0) return null;
  return (at) => (bits[at >> 3]! & (1 << (at & 7))) !== 0;
}

export function arrowJsonWriterFor(type: DataType): RowWriterMaker | null {
  if (DataType.isUtf8(type)) {
    return (data) => {
      const valid = validity(data);
      const offsets = data.valueOffsets as Int32Array;
      const values = data.values as Uint8Array;
      const off = data.offset;
      return (out, i) => {
        const at = off + i;
        if (valid !== null && !valid(at)) out.null();
        else out.utf8(values, offsets[at]!, offsets[at + 1]!);
      };
    };
  }
  if (DataType.isTimestamp(type)) {
    // Nanoseconds (the datasets' unit); another unit decodes to other values in hyparquet.
    if (type.unit !== 3) return null;
    return (data) => {
      const valid = validity(data);
      const values = data.values as BigInt64Array;
      const off = data.offset;
      return (out, i) => {
        const at = off + i;
        if (valid !== null && !valid(at)) out.null();
        else out.timestampNs(values[at]!);
      };
    };
  }
  if (DataType.isInt(type)) {
    if (type.bitWidth === 64) {
      return (data) => {
        const valid = validity(data);
        // The two 32-bit halves (little-endian): a number without a BigInt while it is exact.
        const v = data.values as BigInt64Array | BigUint64Array;
        const halves = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
        const words = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
        const signed = type.isSigned;
        const off = data.offset;
        return (out, i) => {
          const at = off + i;
          if (valid !== null && !valid(at)) {
            out.null();
            return;
          }
          const hi = signed ? halves[2 * at + 1]! : words[2 * at + 1]!;
          // |value| < 2^53 - 2^32 for sure: exact as a double.
          if (hi > -0x1f_ffff && hi < 0x1f_ffff) out.int(hi * TWO_32 + words[2 * at]!);
          else out.bigint(BigInt(v[at]!));
        };
      };
    }
    return (data) => {
      const valid = validity(data);
      const values = data.values as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
      const off = data.offset;
      return (out, i) => {
        const at = off + i;
        if (valid !== null && !valid(at)) out.null();
        else out.int(values[at]!);
      };
    };
  }
  if (DataType.isFloat(type)) {
    if (type.precision === 0) return null; // half floats: not in the datasets
    const write = jsonWriterFor(type); // NaN and ±Infinity as the record path writes them
    return (data) => {
      const valid = validity(data);
      const values = data.values as Float32Array | Float64Array;
      const off = data.offset;
      return (out, i) => {
        const at = off + i;
        if (valid !== null && !valid(at)) out.null();
        else write(out, values[at]!);
      };
    };
  }
  if (DataType.isBool(type)) {
    return (data) => {
      const valid = validity(data);
      const bits = data.values as Uint8Array;
      const off = data.offset;
      return (out, i) => {
        const at = off + i;
        if (valid !== null && !valid(at)) out.null();
        else out.text((bits[at >> 3]! & (1 << (at & 7))) !== 0 ? 'true' : 'false');
      };
    };
  }
  if (DataType.isList(type)) {
    const item = arrowJsonWriterFor(type.children[0]!.type);
    if (item === null) return null;
    return (data) => {
      const valid = validity(data);
      const offsets = data.valueOffsets as Int32Array;
      const child = item(data.children[0]!);
      const off = data.offset;
      return (out, i) => {
        const at = off + i;
        if (valid !== null && !valid(at)) {
          out.null();
          return;
        }
        out.byte(OPEN_LIST);
        const end = offsets[at + 1]!;
        for (let j = offsets[at]!; j < end; j++) {
          if (j > offsets[at]!) out.byte(COMMA);
          child(out, j);
        }
        out.byte(CLOSE_LIST);
      };
    };
  }
  if (DataType.isStruct(type)) {
    const fields = type.children as Field[];
    const names = fields.map((f) => f.name);
    // As json-writers.ts: JSON.stringify reorders integer-like names and keeps one of duplicates.
    if (names.some((n) => INDEX_LIKE.test(n)) || new Set(names).size !== names.length) return null;
    const makers = fields.map((f) => arrowJsonWriterFor(f.type));
    if (makers.some((m) => m === null)) return null;
    const keys = names.map((n, i) => encoder.encode(`${i === 0 ? '{' : ','}${JSON.stringify(n)}:`));
    return (data) => {
      const valid = validity(data);
      const children = makers.map((m, k) => m!(data.children[k]!));
      const off = data.offset;
      return (out, i) => {
        if (valid !== null && !valid(off + i)) {
          out.null();
          return;
        }
        // A struct's children are indexed like the struct (each adds its own offset).
        if (keys.length === 0) out.byte(OPEN_OBJECT);
        for (let k = 0; k < keys.length; k++) {
          out.bytes(keys[k]!);
          children[k]!(out, i);
        }
        out.byte(CLOSE_OBJECT);
      };
    };
  }
  if (DataType.isMap(type)) {
    const entries = type.children[0]!.type as DataType;
    const kv = entries.children ?? [];
    if (kv.length !== 2 || !DataType.isUtf8(kv[0]!.type) || !DataType.isUtf8(kv[1]!.type)) return null;
    return mapWriter(jsonWriterFor(type));
  }
  return null;
}

/** Map<Utf8, Utf8>: written from the buffers, or as hyparquet's object where JS semantics matter. */
function mapWriter(recordWriter: (out: JsonBytes, v: unknown) => void): RowWriterMaker {
  const decoder = new TextDecoder();
  return (data) => {
    const valid = validity(data);
    const offsets = data.valueOffsets as Int32Array;
    const entries = data.children[0]!;
    const keyData = entries.children[0]!;
    const valueData = entries.children[1]!;
    const kOff = keyData.valueOffsets as Int32Array;
    const kBytes = keyData.values as Uint8Array;
    const vOff = valueData.valueOffsets as Int32Array;
    const vBytes = valueData.values as Uint8Array;
    const vValid = validity(valueData);
    const off = data.offset;
    // Entries are indexed by the offsets; their key and value children like the entries.
    const kBase = keyData.offset;
    const vBase = valueData.offset;
    const text = (o: Int32Array, bytes: Uint8Array, at: number): string => decoder.decode(bytes.subarray(o[at]!, o[at + 1]!));
    return (out, i) => {
      const at = off + i;
      if (valid !== null && !valid(at)) {
        out.null();
        return;
      }
      const first = offsets[at]!;
      const end = offsets[at + 1]!;
      if (!plainKeys(kOff, kBytes, kBase, first, end)) {
        // hyparquet's object, assignment by assignment, then the record path's writer.
        const obj: Record<string, unknown> = {};
        for (let j = first; j < end; j++) {
          const value = vValid !== null && !vValid(vBase + j) ? null : text(vOff, vBytes, vBase + j);
          obj[text(kOff, kBytes, kBase + j)] = value;
        }
        recordWriter(out, obj);
        return;
      }
      out.byte(OPEN_OBJECT);
      for (let j = first; j < end; j++) {
        if (j > first) out.byte(COMMA);
        out.utf8(kBytes, kOff[kBase + j]!, kOff[kBase + j + 1]!);
        out.byte(COLON);
        if (vValid !== null && !vValid(vBase + j)) out.null();
        else out.utf8(vBytes, vOff[vBase + j]!, vOff[vBase + j + 1]!);
      }
      out.byte(CLOSE_OBJECT);
    };
  };
}

/**
 * Whether the keys of entries [first, end) make an object in their own order with every entry
 * kept: none starts with a digit (integer-like keys move to the front; a conservative test),
 * none is `__proto__`, no two are equal.
 */
function plainKeys(kOff: Int32Array, kBytes: Uint8Array, base: number, first: number, end: number): boolean {
  for (let j = first; j < end; j++) {
    const s = kOff[base + j]!;
    const e = kOff[base + j + 1]!;
    const c = kBytes[s];
    if (c !== undefined && c >= 0x30 && c <= 0x39 && s < e) return false;
    if (e - s === 9 && c === 0x5f && kBytes[s + 1] === 0x5f && kBytes[s + 2] === 0x70) return false; // `__p…` of 9 bytes: maybe `__proto__`
    for (let k = first; k < j; k++) {
      const s2 = kOff[base + k]!;
      if (kOff[base + k + 1]! - s2 !== e - s) continue;
      let same = true;
      for (let b = 0; b < e - s; b++) {
        if (kBytes[s + b] !== kBytes[s2 + b]) {
          same = false;
          break;
        }
      }
      if (same) return false;
    }
  }
  return true;
}
