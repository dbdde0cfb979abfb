/**
 * Conversions from decoded OTLP values to the plain forms our columns store.
 *
 * Attribute maps are `Map<Utf8, Utf8>`, so every AnyValue becomes text: strings as they are,
 * numbers and booleans in their canonical text, bytes as base64, arrays and kvlists as JSON.
 * Integers are written from their exact 64-bit value, never through a lossy double.
 */
import type { AnyValue, Int64Value, KeyValue } from './types.js';

const TWO_32 = 4294967296n;

/** Exact signed/unsigned 64-bit value as a bigint. */
export function int64ToBigInt(v: Int64Value | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  const big = BigInt(v.high >>> 0) * TWO_32 + BigInt(v.low >>> 0);
  return v.unsigned ? big : BigInt.asIntN(64, big);
}

/**
 * Nanosecond timestamps fit in a signed 64-bit column until the year 2262; a fixed64 value
 * beyond that is clamped rather than wrapped into the past.
 */
export function unixNanoToBigInt(v: Int64Value | null | undefined): bigint {
  return clampToInt64(int64ToBigInt(v));
}

/** A uint64 (a nanosecond time, a count) bound for a signed Int64 column: clamped at 2^63 − 1, not wrapped. */
export function clampToInt64(n: bigint): bigint {
  return n > INT64_MAX ? INT64_MAX : n;
}

const INT64_MAX = 9223372036854775807n;

export function isZeroInt64(v: Int64Value | null | undefined): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return v === 0;
  return v.low === 0 && v.high === 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!;
  return s;
}

/** Hex of an optional id field (links, exemplars): null when the client sent none. */
export function hexOrNull(bytes: Uint8Array | null | undefined): string | null {
  return bytes && bytes.length > 0 ? bytesToHex(bytes) : null;
}

/**
 * The OTLP/JSON text of ids that cannot be valid (not hex, or a length no id has), keyed by the
 * bytes they were turned into, so a refusal can quote what the client sent ("abc") instead of
 * a byte count it never wrote. protobufjs `fromObject` keeps the very Uint8Array it is given.
 */
const jsonIdTexts = new WeakMap<Uint8Array, string>();

export function rememberJsonIdText(bytes: Uint8Array, text: string): void {
  jsonIdTexts.set(bytes, text);
}

/** What a refused id was: `"abc"` when it came as OTLP/JSON text, else `3 bytes`. */
export function describeId(bytes: Uint8Array): string {
  const text = jsonIdTexts.get(bytes);
  if (text === undefined) return `${bytes.length} bytes`;
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}

export function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** JSON forbids NaN and infinities; they are kept as strings so nothing is lost. */
function doubleToJson(d: number): string {
  return Number.isFinite(d) ? JSON.stringify(d) : JSON.stringify(String(d));
}

/** Nested AnyValues deeper than this are cut (hostile input could otherwise exhaust the stack). */
export const MAX_ANY_VALUE_DEPTH = 64;

function anyValueToJson(v: AnyValue | null | undefined, depth: number): string {
  if (v === null || v === undefined || v.value === undefined) return 'null';
  if (depth > MAX_ANY_VALUE_DEPTH) return '"<nesting too deep>"';
  switch (v.value) {
    case 'stringValue':
      return JSON.stringify(v.stringValue);
    case 'boolValue':
      return v.boolValue ? 'true' : 'false';
    case 'intValue':
      return int64ToBigInt(v.intValue).toString();
    case 'doubleValue':
      return doubleToJson(v.doubleValue);
    case 'bytesValue':
      return JSON.stringify(Buffer.from(v.bytesValue).toString('base64'));
    case 'arrayValue': {
      const values = v.arrayValue?.values ?? [];
      return '[' + values.map((x) => anyValueToJson(x, depth + 1)).join(',') + ']';
    }
    case 'kvlistValue': {
      const kvs = v.kvlistValue?.values ?? [];
      return '{' + kvs.map((kv) => JSON.stringify(kv.key) + ':' + anyValueToJson(kv.value, depth + 1)).join(',') + '}';
    }
  }
}

/** Any AnyValue as JSON text (a string becomes a JSON string), or null when empty. */
export function anyValueToJsonText(v: AnyValue | null | undefined): string | null {
  if (v === null || v === undefined || v.value === undefined) return null;
  return anyValueToJson(v, 0);
}

/** The text stored in an attribute map, or null for an empty AnyValue. */
export function anyValueToText(v: AnyValue | null | undefined): string | null {
  if (v === null || v === undefined || v.value === undefined) return null;
  switch (v.value) {
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue ? 'true' : 'false';
    case 'intValue':
      return int64ToBigInt(v.intValue).toString();
    case 'doubleValue':
      return String(v.doubleValue);
    case 'bytesValue':
      return Buffer.from(v.bytesValue).toString('base64');
    case 'arrayValue':
    case 'kvlistValue':
      return anyValueToJson(v, 0);
  }
}

/** Looks up one attribute's string value (e.g. `service.name`) without building a map. */
export function findStringAttribute(attrs: readonly KeyValue[] | null | undefined, key: string): string | null {
  if (!attrs) return null;
  for (const kv of attrs) {
    if (kv.key === key) return kv.value?.value === 'stringValue' ? kv.value.stringValue : anyValueToText(kv.value);
  }
  return null;
}
