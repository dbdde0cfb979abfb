/**
 * Decoded Parquet values → JSON-friendly values, driven by the dataset's Arrow schema: nanosecond
 * timestamps become RFC 3339 strings with all nine fractional digits, 64-bit integers become
 * numbers when exact and strings beyond 2^53, maps become objects.
 */
import { DataType, type Field } from 'apache-arrow';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Converter = (v: unknown) => JsonValue;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function nsToRfc3339(ns: bigint): string {
  let seconds = ns / 1_000_000_000n;
  if (ns % 1_000_000_000n < 0n) seconds -= 1n; // floor, for times before 1970
  const frac = ns - seconds * 1_000_000_000n;
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

/** A 64-bit integer for JSON: a number while exact, else its decimal text. */
export function int64(v: unknown): JsonValue {
  if (typeof v === 'bigint') return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
  return v as JsonValue;
}

const identity: Converter = (v) => (v === undefined ? null : (v as JsonValue));

export function converterFor(type: DataType): Converter {
  if (DataType.isTimestamp(type)) return (v) => (typeof v === 'bigint' ? nsToRfc3339(v) : v instanceof Date ? v.toISOString() : identity(v));
  if (DataType.isInt(type)) return (v) => (v === null || v === undefined ? null : int64(v));
  if (DataType.isFloat(type)) return (v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : identity(v));
  if (DataType.isList(type)) {
    const item = converterFor(type.children[0]!.type);
    return (v) => (Array.isArray(v) ? v.map(item) : null);
  }
  if (DataType.isStruct(type)) {
    const fields = type.children.map((f: Field) => [f.name, converterFor(f.type)] as const);
    return (v) => {
      if (v === null || v === undefined || typeof v !== 'object') return null;
      const o = v as Record<string, unknown>;
      const out: Record<string, JsonValue> = {};
      for (const [name, conv] of fields) out[name] = conv(o[name]);
      return out;
    };
  }
  if (DataType.isMap(type)) {
    return (v) => {
      if (v === null || v === undefined) return null;
      if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), identity(x)]));
      return v as JsonValue;
    };
  }
  return identity;
}
