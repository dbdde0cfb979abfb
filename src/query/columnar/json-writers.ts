/**
 * One JSON writer per column type, built once from the dataset's Arrow schema: each writes a
 * decoded Parquet value as the text `JSON.stringify(converterFor(type)(value))` would give
 * (src/query/json-values.ts is the reference), without the converted value. A shape the fast
 * path does not expect (a Map instance, an object where a string belongs) goes through the
 * converter and `JSON.stringify`, so the output never differs — only its cost.
 */
import { DataType, type Field } from 'apache-arrow';
import { converterFor } from '../json-values.js';
import type { JsonBytes } from './json-bytes.js';

export type JsonWriter = (out: JsonBytes, v: unknown) => void;

const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_LIST = 0x5b;
const CLOSE_LIST = 0x5d;
const COLON = 0x3a;
const encoder = new TextEncoder();

/** Names that JSON.stringify would move to the front of an object (integer-like keys). */
const INDEX_LIKE = /^(0|[1-9]\d*)$/;

export function jsonWriterFor(type: DataType): JsonWriter {
  const convert = converterFor(type);
  const fallback: JsonWriter = (out, v) => out.text(JSON.stringify(convert(v)));
  if (DataType.isUtf8(type)) {
    return (out, v) => {
      if (typeof v === 'string') out.string(v);
      else if (v === null || v === undefined) out.null();
      else fallback(out, v);
    };
  }
  if (DataType.isTimestamp(type)) {
    return (out, v) => {
      if (typeof v === 'bigint') out.timestampNs(v);
      else if (v === null || v === undefined) out.null();
      else fallback(out, v);
    };
  }
  if (DataType.isInt(type)) {
    return (out, v) => {
      if (typeof v === 'bigint') out.bigint(v);
      else if (typeof v === 'number') out.number(v);
      else if (v === null || v === undefined) out.null();
      else fallback(out, v);
    };
  }
  if (DataType.isFloat(type)) {
    return (out, v) => {
      if (typeof v === 'number' && Number.isFinite(v)) out.number(v);
      else if (v === null || v === undefined) out.null();
      else fallback(out, v); // NaN and ±Infinity become strings
    };
  }
  if (DataType.isMap(type)) return mapWriter(fallback);
  if (DataType.isList(type)) {
    const item = jsonWriterFor(type.children[0]!.type);
    return (out, v) => {
      if (!Array.isArray(v)) {
        out.null();
        return;
      }
      out.byte(OPEN_LIST);
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.byte(COMMA);
        item(out, v[i]);
      }
      out.byte(CLOSE_LIST);
    };
  }
  if (DataType.isStruct(type)) {
    const fields = type.children as Field[];
    const names = fields.map((f) => f.name);
    // JSON.stringify puts integer-like keys first and keeps one of duplicates: not worth a fast path.
    if (names.some((n) => INDEX_LIKE.test(n)) || new Set(names).size !== names.length) return fallback;
    const keys = names.map((n, i) => encoder.encode(`${i === 0 ? '{' : ','}${JSON.stringify(n)}:`));
    const writers = fields.map((f) => jsonWriterFor(f.type));
    return (out, v) => {
      if (v === null || v === undefined || typeof v !== 'object') {
        out.null();
        return;
      }
      const o = v as Record<string, unknown>;
      if (keys.length === 0) {
        out.byte(OPEN_OBJECT);
      } else {
        for (let i = 0; i < keys.length; i++) {
          out.bytes(keys[i]!);
          writers[i]!(out, o[names[i]!]);
        }
      }
      out.byte(CLOSE_OBJECT);
    };
  }
  // Strings of other kinds, booleans, anything else: the converter is the identity.
  return (out, v) => {
    if (v === null || v === undefined) out.null();
    else if (typeof v === 'boolean') out.text(v ? 'true' : 'false');
    else if (typeof v === 'string') out.string(v);
    else fallback(out, v);
  };
}

/**
 * A map column as hyparquet decodes it: a plain object (string keys, string or null values),
 * written in `Object.keys` order as JSON.stringify does.
 */
function mapWriter(fallback: JsonWriter): JsonWriter {
  return (out, v) => {
    if (v === null || v === undefined) {
      out.null();
      return;
    }
    if (typeof v !== 'object' || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) {
      fallback(out, v);
      return;
    }
    const o = v as Record<string, unknown>;
    out.byte(OPEN_OBJECT);
    let first = true;
    for (const k of Object.keys(o)) {
      const x = o[k];
      // Not a string: as JSON.stringify has it (undefined, a function: the key is left out).
      const json = typeof x === 'string' ? null : (JSON.stringify(x) as string | undefined);
      if (json === undefined) continue;
      if (!first) out.byte(COMMA);
      first = false;
      out.string(k);
      out.byte(COLON);
      if (json === null) out.string(x as string);
      else out.text(json);
    }
    out.byte(CLOSE_OBJECT);
  };
}
