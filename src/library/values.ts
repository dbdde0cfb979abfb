/**
 * Record values → Arrow column data, in two steps so errors are precise and building is simple:
 *
 * 1. `normalize` checks one value against its declared type and returns it in a canonical form
 *    (or throws a `ValueProblem` naming the nested path and why). Accepted inputs per type are
 *    documented in docs/library.md ("Values").
 * 2. `buildColumn` turns a column of canonical values into Arrow `Data` with typed arrays
 *    (no per-value Arrow builders; they drop sub-millisecond timestamps and cannot take decimals).
 */
import { makeData, type Data, type DataType } from 'apache-arrow';
import { parseTimestampNs, plainUtcMs } from '../time/timestamp.js';
import { arrowType } from '../parquet/schema.js';
import { parquetTypeName, type IntKind, type ParquetField, type ParquetType } from '../parquet/types.js';

/** A value that does not fit its type; `path` is relative to the field (`[2]`, `.city`). */
export class ValueProblem extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

type Canonical = string | boolean | number | bigint | Uint8Array | Canonical[] | [string, Canonical][] | { [k: string]: Canonical } | null;

const INT_RANGE: Readonly<Record<IntKind, readonly [bigint, bigint]>> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** Nanoseconds in one unit of each timestamp unit. */
export const NS_PER_UNIT: Readonly<Record<'ms' | 'us' | 'ns', bigint>> = { ms: 1_000_000n, us: 1000n, ns: 1n };
const MS_PER_DAY = 86_400_000;

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Date) return 'a Date';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
};

const want = (type: ParquetType, v: unknown, extra = ''): never => {
  throw new ValueProblem('', `expected ${parquetTypeName(type)}${extra}, got ${describe(v)}`);
};

const NUMBER_RANGE: Readonly<Record<IntKind, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * An integer as a number when it is exact as one (no bigint allocated: the common case and the
 * hot path), else as a bigint (64-bit columns only).
 */
function integer(type: ParquetType & { kind: IntKind }, v: unknown): number | bigint {
  if (typeof v === 'number' && Number.isInteger(v)) {
    const [lo, hi] = NUMBER_RANGE[type.kind];
    if (v >= lo && v <= hi) return v;
    if (!Number.isSafeInteger(v)) throw new ValueProblem('', `${v} is beyond 2^53 and not exact as a JavaScript number; pass a bigint or a string`);
    throw new ValueProblem('', `${v} is out of range for ${type.kind} (${INT_RANGE[type.kind][0]}..${INT_RANGE[type.kind][1]})`);
  }
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) n = BigInt(v.trim());
  else return want(type, v);
  const [min, max] = INT_RANGE[type.kind];
  if (n < min || n > max) throw new ValueProblem('', `${n} is out of range for ${type.kind} (${min}..${max})`);
  return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An epoch value in the column's unit: a number when exact as one (ms and us columns, the hot
 * path), else a bigint. Numbers in are epoch milliseconds (Date.now()); bigints nanoseconds.
 */
function timestamp(type: ParquetType & { kind: 'timestamp' }, v: unknown): number | bigint {
  const fast = typeof v === 'string' ? plainUtcMs(v) : v instanceof Date ? v.getTime() : undefined;
  if (fast !== undefined && !Number.isNaN(fast) && type.unit !== 'ns') return type.unit === 'ms' ? fast : fast * 1000;
  let ns: bigint | undefined;
  if (v instanceof Date) ns = Number.isNaN(v.getTime()) ? undefined : BigInt(v.getTime()) * 1_000_000n;
  else if (typeof v === 'string') ns = parseTimestampNs(v.trim());
  else if (typeof v === 'bigint') ns = v;
  else if (typeof v === 'number' && Number.isFinite(v)) {
    // Milliseconds, keeping up to microsecond fractions (Date.now() + performance offsets).
    ns = BigInt(Math.round(v * 1000)) * 1000n;
  }
  if (ns === undefined) return want(type, v, ' (RFC 3339 text with an offset, a Date, epoch ms as a number or epoch ns as a bigint)');
  const per = NS_PER_UNIT[type.unit];
  if (ns % per !== 0n) throw new ValueProblem('', `${describe(v)} has more precision than timestamp_${type.unit} keeps`);
  const value = ns / per;
  return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value;
}

function date(type: ParquetType, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v; // days since the epoch
  let ms: number | undefined;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === 'string') {
    const ns = parseTimestampNs(v.trim());
    if (ns !== undefined) ms = Number(ns / 1_000_000n);
  }
  if (ms === undefined || Number.isNaN(ms)) return want(type, v, ' (YYYY-MM-DD, a Date, or whole days since 1970-01-01)');
  if (ms % MS_PER_DAY !== 0) throw new ValueProblem('', `${describe(v)} is not midnight UTC; a date has no time of day`);
  return Math.floor(ms / MS_PER_DAY);
}

/** The unscaled integer of a decimal: `"12.30"` in decimal(10,2) is 1230n. No silent rounding. */
function decimal(type: ParquetType & { kind: 'decimal' }, v: unknown): bigint {
  let text: string;
  if (typeof v === 'string') text = v.trim();
  else if (typeof v === 'number' && Number.isFinite(v)) text = String(v);
  else if (typeof v === 'bigint') text = v.toString();
  else return want(type, v);
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return want(type, v);
  let digits = (m[2] ?? '') + (m[3] ?? '');
  const exponent = Number(m[4] ?? 0) - (m[3] ?? '').length; // value = digits × 10^exponent
  const shift = exponent + type.scale;
  if (shift >= 0) digits += '0'.repeat(shift);
  else {
    const dropped = digits.slice(digits.length + shift);
    if (/[^0]/.test(dropped)) throw new ValueProblem('', `${text} has more than ${type.scale} fraction digits (decimal(${type.precision},${type.scale}) does not round)`);
    digits = digits.slice(0, digits.length + shift);
  }
  const unscaled = BigInt(digits === '' ? '0' : digits) * (m[1] === '-' ? -1n : 1n);
  const abs = unscaled < 0n ? -unscaled : unscaled;
  if (abs >= 10n ** BigInt(type.precision)) throw new ValueProblem('', `${text} needs more than ${type.precision} digits`);
  return unscaled;
}

function bytes(type: ParquetType, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0) return new Uint8Array(Buffer.from(v, 'base64'));
  return want(type, v, ' (Uint8Array or base64 text)');
}

function nested(path: string, fn: () => Canonical): Canonical {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ValueProblem) throw new ValueProblem(path + err.path, err.reason);
    throw err;
  }
}

/**
 * Checks a non-null value against `type` and returns its canonical form. Strict by design: a
 * string is not a number, an object must not carry keys the struct does not declare — a value
 * the schema cannot hold is refused rather than silently changed or dropped.
 */
export function normalize(type: ParquetType, v: unknown): Canonical {
  switch (type.kind) {
    case 'string':
      return typeof v === 'string' ? v : want(type, v);
    case 'boolean':
      return typeof v === 'boolean' ? v : want(type, v);
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
    case 'uint32':
      return Number(integer(type, v));
    case 'int64':
    case 'uint64':
      return integer(type, v);
    case 'float':
    case 'double':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint' && BigInt(Number(v)) === v) return Number(v);
      if (typeof v === 'string' && /^(NaN|-?Infinity)$/.test(v)) return Number(v);
      return want(type, v);
    case 'timestamp':
      return timestamp(type, v);
    case 'date':
      return date(type, v);
    case 'decimal':
      return decimal(type, v);
    case 'binary':
      return bytes(type, v);
    case 'list': {
      if (!Array.isArray(v)) return want(type, v);
      return v.map((item, i) => (item === null || item === undefined ? null : nested(`[${i}]`, () => normalize(type.item, item))));
    }
    case 'map': {
      const entries = v instanceof Map ? [...v.entries()] : isPlainObject(v) ? Object.entries(v) : want(type, v);
      return entries.map(([k, x]): [string, Canonical] => {
        if (typeof k !== 'string') throw new ValueProblem('', `map keys must be strings, got ${describe(k)}`);
        return [k, x === null || x === undefined ? null : nested(`[${JSON.stringify(k)}]`, () => normalize(type.value, x))];
      });
    }
    case 'struct': {
      if (!isPlainObject(v)) return want(type, v);
      return normalizeObject(type.fields, v);
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date) && !(v instanceof Map);
}

/** A struct value (or a whole record): every declared field checked, no undeclared keys. */
export function normalizeObject(fields: readonly ParquetField[], v: Record<string, unknown>): { [k: string]: Canonical } {
  const out: { [k: string]: Canonical } = {};
  let present = 0;
  for (const f of fields) {
    const x = v[f.name];
    if (x === undefined && !(f.name in v)) {
      if (!f.nullable) throw new ValueProblem(`.${f.name}`, 'is required but missing or null');
      out[f.name] = null;
      continue;
    }
    present++;
    if (x === null || x === undefined) {
      if (!f.nullable) throw new ValueProblem(`.${f.name}`, 'is required but missing or null');
      out[f.name] = null;
      continue;
    }
    try {
      out[f.name] = normalize(f.type, x);
    } catch (err) {
      if (err instanceof ValueProblem) throw new ValueProblem(`.${f.name}${err.path}`, err.reason);
      throw err;
    }
  }
  // Every key was a declared field unless the object has more keys than fields it matched.
  if (Object.keys(v).length !== present) {
    for (const key of Object.keys(v)) {
      if (!fields.some((f) => f.name === key)) throw new ValueProblem(`.${key}`, 'is not in the schema (add it with withField, or drop it)');
    }
  }
  return out;
}

// ---- building ---------------------------------------------------------------------------------

function validity(values: readonly unknown[]): { bitmap: Uint8Array | undefined; nulls: number } {
  let nulls = 0;
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) nulls++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap: nulls > 0 ? bitmap : undefined, nulls };
}

/** Strings straight into one UTF-8 buffer (no per-value encoder arrays). */
function utf8Column(type: DataType, values: readonly Canonical[]): Data {
  const { bitmap, nulls } = validity(values);
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    offsets[i + 1] = total += v === null ? 0 : Buffer.byteLength(v as string, 'utf8');
  }
  const data = Buffer.allocUnsafe(total);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null) data.write(v as string, offsets[i]!, 'utf8');
  }
  return makeData({ type, length: values.length, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, total) } as never);
}

function variableWidth(type: DataType, values: readonly Canonical[], toBytes: (v: Canonical) => Uint8Array): Data {
  const { bitmap, nulls } = validity(values);
  const parts = values.map((v) => (v === null ? new Uint8Array(0) : toBytes(v)));
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = total += parts[i]!.length;
  const data = new Uint8Array(total);
  for (let i = 0; i < parts.length; i++) data.set(parts[i]!, offsets[i]!);
  return makeData({ type, length: values.length, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsets, data } as never);
}

function fixedWidth<A extends { [i: number]: number | bigint; length: number }>(type: DataType, values: readonly Canonical[], array: A, zero: number | bigint): Data {
  const { bitmap, nulls } = validity(values);
  for (let i = 0; i < values.length; i++) array[i] = (values[i] ?? zero) as number | bigint;
  return makeData({ type, length: values.length, nullCount: nulls, nullBitmap: bitmap, data: array } as never);
}

/**
 * 64-bit integers from numbers (written as two 32-bit halves, no bigint per value) or bigints.
 * Little-endian, as Arrow buffers are on every platform Node runs on.
 */
function int64Column(type: DataType, values: readonly Canonical[], unsigned: boolean): Data {
  const { bitmap, nulls } = validity(values);
  const big = unsigned ? new BigUint64Array(values.length) : new BigInt64Array(values.length);
  const halves = new Int32Array(big.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number') {
      const hi = Math.floor(v / 4294967296);
      halves[2 * i] = v - hi * 4294967296; // the low 32 bits (wraps into Int32 as unsigned bits)
      halves[2 * i + 1] = hi;
    } else if (typeof v === 'bigint') big[i] = unsigned ? BigInt.asUintN(64, v) : v;
  }
  return makeData({ type, length: values.length, nullCount: nulls, nullBitmap: bitmap, data: big } as never);
}

function offsetsOf(values: readonly Canonical[]): Int32Array {
  const offsets = new Int32Array(values.length + 1);
  let n = 0;
  for (let i = 0; i < values.length; i++) offsets[i + 1] = n += values[i] === null ? 0 : (values[i] as unknown[]).length;
  return offsets;
}

/** A column of canonical values (from `normalize`, nulls as null) → Arrow Data of `type`. */
export function buildColumn(type: ParquetType, values: readonly Canonical[]): Data {
  const arrow = arrowType(type);
  const n = values.length;
  switch (type.kind) {
    case 'string':
      return utf8Column(arrow, values);
    case 'binary':
      return variableWidth(arrow, values, (v) => v as Uint8Array);
    case 'boolean': {
      const { bitmap, nulls } = validity(values);
      const bits = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (values[i] === true) bits[i >> 3]! |= 1 << (i & 7);
      return makeData({ type: arrow, length: n, nullCount: nulls, nullBitmap: bitmap, data: bits } as never);
    }
    case 'int8':
      return fixedWidth(arrow, values, new Int8Array(n), 0);
    case 'int16':
      return fixedWidth(arrow, values, new Int16Array(n), 0);
    case 'int32':
    case 'date':
      return fixedWidth(arrow, values, new Int32Array(n), 0);
    case 'uint8':
      return fixedWidth(arrow, values, new Uint8Array(n), 0);
    case 'uint16':
      return fixedWidth(arrow, values, new Uint16Array(n), 0);
    case 'uint32':
      return fixedWidth(arrow, values, new Uint32Array(n), 0);
    case 'int64':
    case 'timestamp':
    case 'uint64':
      return int64Column(arrow, values, type.kind === 'uint64');
    case 'float':
      return fixedWidth(arrow, values, new Float32Array(n), 0);
    case 'double':
      return fixedWidth(arrow, values, new Float64Array(n), 0);
    case 'decimal': {
      // 128-bit two's complement, little-endian, as four 32-bit words per value.
      const { bitmap, nulls } = validity(values);
      const words = new Uint32Array(n * 4);
      for (let i = 0; i < n; i++) {
        let v = BigInt.asUintN(128, (values[i] as bigint | null) ?? 0n);
        for (let w = 0; w < 4; w++, v >>= 32n) words[i * 4 + w] = Number(v & 0xffffffffn);
      }
      return makeData({ type: arrow, length: n, nullCount: nulls, nullBitmap: bitmap, data: words } as never);
    }
    case 'list': {
      const { bitmap, nulls } = validity(values);
      const child = buildColumn(type.item, values.flatMap((v) => (v === null ? [] : (v as Canonical[]))));
      return makeData({ type: arrow, length: n, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsetsOf(values), child } as never);
    }
    case 'map': {
      const { bitmap, nulls } = validity(values);
      const entries = values.flatMap((v) => (v === null ? [] : (v as [string, Canonical][])));
      const keys = buildColumn({ kind: 'string' }, entries.map((e) => e[0]));
      const vals = buildColumn(type.value, entries.map((e) => e[1]));
      const entryType = (arrow as unknown as { children: { type: DataType }[] }).children[0]!.type;
      const child = makeData({ type: entryType, length: entries.length, nullCount: 0, children: [keys, vals] } as never);
      return makeData({ type: arrow, length: n, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsetsOf(values), child } as never);
    }
    case 'struct': {
      const { bitmap, nulls } = validity(values);
      const children = type.fields.map((f) => buildColumn(f.type, values.map((v) => (v === null ? null : (v as Record<string, Canonical>)[f.name] ?? null))));
      return makeData({ type: arrow, length: n, nullCount: nulls, nullBitmap: bitmap, children } as never);
    }
  }
}

export type { Canonical };
