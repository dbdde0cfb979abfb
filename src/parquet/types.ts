/**
 * The column types a library user can name, as plain data: `ParquetType.Int64`,
 * `ParquetType.list(ParquetType.String)`, or the string aliases `"int64"`, `"list<string>"`,
 * `"decimal(10,2)"`, `"map<string,double>"`, `"struct<a:int32,b:string>"`.
 *
 * Each maps to one Arrow type (the writer's input) and so to one Parquet physical + logical type;
 * `parquetTypeName` renders the canonical alias back, which error messages and
 * `validateSchemaCompatibility` use.
 */
import { S3ParquetError } from '../errors.js';

export type TimeUnit = 'ms' | 'us' | 'ns';

export type ParquetType =
  | { readonly kind: 'string' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' }
  | { readonly kind: 'float' | 'double' }
  | { readonly kind: 'timestamp'; readonly unit: TimeUnit }
  | { readonly kind: 'date' }
  | { readonly kind: 'binary' }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'list'; readonly item: ParquetType }
  | { readonly kind: 'map'; readonly value: ParquetType }
  | { readonly kind: 'struct'; readonly fields: readonly ParquetField[] };

export type IntKind = 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';

export interface ParquetField {
  readonly name: string;
  readonly type: ParquetType;
  readonly nullable: boolean;
}

/** A type or one of its string aliases, wherever the API takes a type. */
export type ParquetTypeLike = ParquetType | string;

const MAX_DECIMAL_PRECISION = 38;

function decimal(precision: number, scale: number): ParquetType {
  if (!Number.isInteger(precision) || precision < 1 || precision > MAX_DECIMAL_PRECISION) {
    throw new S3ParquetError('SCHEMA_INVALID', `decimal precision must be a whole number in 1..${MAX_DECIMAL_PRECISION}, got ${precision}`);
  }
  if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
    throw new S3ParquetError('SCHEMA_INVALID', `decimal scale must be a whole number in 0..precision (${precision}), got ${scale}`);
  }
  return { kind: 'decimal', precision, scale };
}

/**
 * The named types. `Timestamp` is microseconds, UTC-adjusted (what Athena, Trino, Spark and
 * DuckDB all read natively); `Decimal` is decimal(38, 18), Spark's system default; `Map` is a
 * string-to-string map. The functions build the parameterised ones.
 */
export const ParquetType = {
  String: { kind: 'string' },
  Boolean: { kind: 'boolean' },
  Int8: { kind: 'int8' },
  Int16: { kind: 'int16' },
  Int32: { kind: 'int32' },
  Int64: { kind: 'int64' },
  UInt8: { kind: 'uint8' },
  UInt16: { kind: 'uint16' },
  UInt32: { kind: 'uint32' },
  UInt64: { kind: 'uint64' },
  Float: { kind: 'float' },
  Double: { kind: 'double' },
  Timestamp: { kind: 'timestamp', unit: 'us' },
  Date: { kind: 'date' },
  Binary: { kind: 'binary' },
  Decimal: { kind: 'decimal', precision: 38, scale: 18 },
  Map: { kind: 'map', value: { kind: 'string' } },
  timestamp: (unit: TimeUnit): ParquetType => ({ kind: 'timestamp', unit }),
  decimal,
  list: (item: ParquetTypeLike): ParquetType => ({ kind: 'list', item: toParquetType(item) }),
  map: (value: ParquetTypeLike = 'string'): ParquetType => ({ kind: 'map', value: toParquetType(value) }),
  struct: (fields: readonly { name: string; type: ParquetTypeLike; nullable?: boolean }[]): ParquetType => ({
    kind: 'struct',
    fields: fields.map((f) => ({ name: f.name, type: toParquetType(f.type), nullable: f.nullable ?? true })),
  }),
} as const satisfies Record<string, ParquetType | ((...args: never[]) => ParquetType)>;

const SIMPLE_ALIASES: Readonly<Record<string, ParquetType>> = {
  string: ParquetType.String,
  utf8: ParquetType.String,
  text: ParquetType.String,
  varchar: ParquetType.String,
  bool: ParquetType.Boolean,
  boolean: ParquetType.Boolean,
  int8: ParquetType.Int8,
  tinyint: ParquetType.Int8,
  int16: ParquetType.Int16,
  smallint: ParquetType.Int16,
  int: ParquetType.Int32,
  int32: ParquetType.Int32,
  integer: ParquetType.Int32,
  int64: ParquetType.Int64,
  long: ParquetType.Int64,
  bigint: ParquetType.Int64,
  uint8: ParquetType.UInt8,
  uint16: ParquetType.UInt16,
  uint32: ParquetType.UInt32,
  uint64: ParquetType.UInt64,
  float: ParquetType.Float,
  float32: ParquetType.Float,
  double: ParquetType.Double,
  float64: ParquetType.Double,
  timestamp: ParquetType.Timestamp,
  timestamp_ms: ParquetType.timestamp('ms'),
  timestamp_us: ParquetType.timestamp('us'),
  timestamp_ns: ParquetType.timestamp('ns'),
  date: ParquetType.Date,
  binary: ParquetType.Binary,
  bytes: ParquetType.Binary,
  decimal: ParquetType.Decimal,
  map: ParquetType.Map,
};

/** Parses a type alias: a simple name, or `list<T>`, `map<string,T>`, `decimal(p,s)`, `struct<a:T,…>`. */
export function parseTypeAlias(text: string): ParquetType {
  const src = text.trim().toLowerCase();
  let pos = 0;
  const fail = (why: string): never => {
    throw new S3ParquetError('SCHEMA_INVALID', `invalid type ${JSON.stringify(text)}: ${why} at position ${pos}`);
  };
  const skip = (): void => {
    while (src[pos] === ' ') pos++;
  };
  const expect = (ch: string): void => {
    skip();
    if (src[pos] !== ch) fail(`expected "${ch}"`);
    pos++;
  };
  const word = (): string => {
    skip();
    const m = /^[a-z_][a-z0-9_]*/.exec(src.slice(pos));
    if (!m) return fail('expected a type name');
    pos += m[0].length;
    return m[0];
  };
  const int = (): number => {
    skip();
    const m = /^\d+/.exec(src.slice(pos));
    if (!m) return fail('expected a number');
    pos += m[0].length;
    return Number(m[0]);
  };
  const type = (): ParquetType => {
    const name = word();
    skip();
    if (name === 'list' || name === 'array') {
      expect('<');
      const item = type();
      expect('>');
      return { kind: 'list', item };
    }
    if (name === 'map' && src[pos] === '<') {
      expect('<');
      const key = type();
      if (key.kind !== 'string') fail('map keys must be string');
      expect(',');
      const value = type();
      expect('>');
      return { kind: 'map', value };
    }
    if (name === 'decimal' && src[pos] === '(') {
      expect('(');
      const p = int();
      expect(',');
      const s = int();
      expect(')');
      return decimal(p, s);
    }
    if (name === 'struct') {
      expect('<');
      const fields: ParquetField[] = [];
      do {
        const fieldName = word();
        expect(':');
        fields.push({ name: fieldName, type: type(), nullable: true });
        skip();
      } while (src[pos] === ',' && ++pos);
      expect('>');
      return { kind: 'struct', fields };
    }
    const simple = SIMPLE_ALIASES[name];
    return simple ?? fail(`unknown type "${name}" (known: ${Object.keys(SIMPLE_ALIASES).join(', ')}, list<T>, map<string,T>, decimal(p,s), struct<name:T,…>)`);
  };
  const result = type();
  skip();
  if (pos !== src.length) fail('unexpected text after the type');
  return result;
}

export function toParquetType(type: ParquetTypeLike): ParquetType {
  return typeof type === 'string' ? parseTypeAlias(type) : type;
}

/** The canonical alias of a type (`int64`, `timestamp_us`, `list<map<string,string>>`). */
export function parquetTypeName(type: ParquetType): string {
  switch (type.kind) {
    case 'timestamp':
      return `timestamp_${type.unit}`;
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'list':
      return `list<${parquetTypeName(type.item)}>`;
    case 'map':
      return `map<string,${parquetTypeName(type.value)}>`;
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}:${parquetTypeName(f.type)}`).join(',')}>`;
    default:
      return type.kind;
  }
}
