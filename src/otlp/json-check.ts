/**
 * Strict scalar checks for OTLP/JSON, run on the parsed request before protobufjs `fromObject`.
 *
 * `fromObject` is lenient in ways that silently store wrong data: a 64-bit field given "abc",
 * "0x1f" or "1e3" becomes 0 or 1, "18446744073709551616" wraps to 0, "-1" in an unsigned field
 * becomes 2^64-1, an enum given 1.5 or 1e400 stays 1.5 or Infinity, a double given "abc" becomes
 * NaN. The protobuf JSON mapping (which OTLP/JSON follows) says these are errors, so they are
 * refused here with the path of the field: `resourceSpans[0].scopeSpans[0].spans[2].kind: …`.
 *
 * Only what `fromObject` would read is checked: known fields, by their JSON (lowerCamelCase)
 * name. Unknown fields are ignored, as the specification asks. Nesting is bounded by the JSON
 * depth limit (limits.ts) checked before parsing.
 */
import type { Enum, Field, Type } from 'protobufjs';

const SIGNED_64 = new Set(['int64', 'sint64', 'sfixed64']);
const UNSIGNED_64 = new Set(['uint64', 'fixed64']);
const SIGNED_32 = new Set(['int32', 'sint32', 'sfixed32']);
const UNSIGNED_32 = new Set(['uint32', 'fixed32']);

const RANGES = {
  s64: [-(2n ** 63n), 2n ** 63n - 1n, 'a 64-bit integer (a number or a decimal string)'],
  u64: [0n, 2n ** 64n - 1n, 'an unsigned 64-bit integer (a number or a decimal string)'],
  s32: [-(2n ** 31n), 2n ** 31n - 1n, 'a 32-bit integer'],
  u32: [0n, 2n ** 32n - 1n, 'an unsigned 32-bit integer'],
} as const satisfies Record<string, readonly [bigint, bigint, string]>;

const DECIMAL = /^-?\d{1,30}$/;
const FLOAT_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export class JsonFieldError extends Error {}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : typeof v;
}

function integerOk(v: unknown, range: readonly [bigint, bigint, string]): boolean {
  let n: bigint;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return false; // also NaN and ±Infinity (1e400)
    n = BigInt(v);
  } else if (typeof v === 'string' && DECIMAL.test(v)) n = BigInt(v);
  else return false;
  return n >= range[0] && n <= range[1];
}

function scalarProblem(field: Field, v: unknown): string | undefined {
  const t = field.type;
  const range = SIGNED_64.has(t) ? RANGES.s64 : UNSIGNED_64.has(t) ? RANGES.u64 : SIGNED_32.has(t) ? RANGES.s32 : UNSIGNED_32.has(t) ? RANGES.u32 : undefined;
  if (range !== undefined) return integerOk(v, range) ? undefined : `expected ${range[2]}`;
  switch (t) {
    case 'double':
    case 'float':
      if (typeof v === 'number') return Number.isFinite(v) ? undefined : 'expected a number in range (use "NaN", "Infinity" or "-Infinity" for those)';
      if (typeof v === 'string' && (v === 'NaN' || v === 'Infinity' || v === '-Infinity' || (FLOAT_TEXT.test(v) && Number.isFinite(Number(v))))) return undefined;
      return 'expected a number';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'expected true or false';
    case 'string':
      return typeof v === 'string' ? undefined : 'expected a string';
    case 'bytes':
      if (v instanceof Uint8Array) return undefined; // ids already converted from hex
      return typeof v === 'string' && BASE64.test(v) ? undefined : 'expected base64 bytes';
  }
  const rt = field.resolvedType;
  if (rt !== null && 'values' in rt && !('fieldsArray' in rt)) {
    const e = rt as Enum;
    if (typeof v === 'string') return Object.prototype.hasOwnProperty.call(e.values, v) ? undefined : `expected one of ${Object.keys(e.values).join(', ')} or its number`;
    return integerOk(v, RANGES.s32) ? undefined : 'expected an enum number (a 32-bit integer) or name';
  }
  return undefined;
}

function checkValue(field: Field, v: unknown, path: string): void {
  if (v === null || v === undefined) return; // the default value
  const rt = field.resolvedType;
  if (rt !== null && 'fieldsArray' in rt) {
    if (typeof v !== 'object' || Array.isArray(v)) throw new JsonFieldError(`${path}: expected an object, got ${describe(v)}`);
    checkMessage(rt as Type, v as Record<string, unknown>, path);
    return;
  }
  const problem = scalarProblem(field, v);
  if (problem !== undefined) throw new JsonFieldError(`${path}: ${problem}, got ${describe(v)}`);
}

function checkMessage(type: Type, obj: Record<string, unknown>, path: string): void {
  const fields = type.fields;
  for (const key of Object.keys(obj)) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) continue; // unknown: ignored
    const field = fields[key]!;
    field.resolve();
    const v = obj[key];
    const at = path === '' ? key : `${path}.${key}`;
    if (field.map) continue; // OTLP has no map fields
    if (field.repeated) {
      if (v === null || v === undefined) continue;
      if (!Array.isArray(v)) throw new JsonFieldError(`${at}: expected an array, got ${describe(v)}`);
      for (let i = 0; i < v.length; i++) checkValue(field, v[i], `${at}[${i}]`);
    } else checkValue(field, v, at);
  }
}

/** Throws JsonFieldError naming the first field whose value the protobuf JSON mapping refuses. */
export function checkJsonFields(type: Type, request: Record<string, unknown>): void {
  checkMessage(type, request, '');
}
