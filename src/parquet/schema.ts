/**
 * `ParquetSchema`: the library's declared record shape. It maps to an Arrow schema for writing,
 * is recovered from a Parquet footer for reading (so files written elsewhere read too), and
 * decides which schema changes keep a lake readable (`checkSchemaCompatibility`).
 */
import {
  Binary, Bool, DataType, DateDay, Decimal, Field, Float32, Float64, Int8, Int16, Int32, Int64, List, Map_, Schema, Struct,
  TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, Uint8, Uint16, Uint32, Uint64, Utf8,
} from 'apache-arrow';
import type { SchemaTree } from 'hyparquet';
import { S3ParquetError } from '../errors.js';
import { parquetTypeName, toParquetType, type ParquetField, type ParquetType, type ParquetTypeLike } from './types.js';

/** An immutable, ordered set of named fields; `withField` returns a new schema. */
export class ParquetSchema {
  private constructor(readonly fields: readonly ParquetField[]) {}

  static empty(): ParquetSchema {
    return new ParquetSchema([]);
  }

  /** A schema from a field list (`[{name, type, nullable}]`, types as values or aliases). */
  static of(fields: readonly { name: string; type: ParquetTypeLike; nullable?: boolean }[]): ParquetSchema {
    return fields.reduce((s, f) => s.withField(f.name, f.type, f.nullable ?? true), ParquetSchema.empty());
  }

  /** Adds a field (nullable unless told otherwise), or replaces the field of that name in place. */
  withField(name: string, type: ParquetTypeLike, nullable = true): ParquetSchema {
    if (typeof name !== 'string' || name === '' || /[\u0000-\u001f]/.test(name)) {
      throw new S3ParquetError('SCHEMA_INVALID', `invalid field name ${JSON.stringify(name)}: names are non-empty and have no control characters`);
    }
    const field: ParquetField = { name, type: toParquetType(type), nullable };
    const at = this.fields.findIndex((f) => f.name === name);
    return new ParquetSchema(at < 0 ? [...this.fields, field] : this.fields.map((f, i) => (i === at ? field : f)));
  }

  field(name: string): ParquetField | undefined {
    return this.fields.find((f) => f.name === name);
  }

  get names(): string[] {
    return this.fields.map((f) => f.name);
  }

  toArrow(): Schema {
    return new Schema(this.fields.map(arrowField));
  }

  /** `{name: alias}` — readable in logs and error messages. */
  toJSON(): { name: string; type: string; nullable: boolean }[] {
    return this.fields.map((f) => ({ name: f.name, type: parquetTypeName(f.type), nullable: f.nullable }));
  }

  /** The schema of a Parquet file, from hyparquet's schema tree of its footer. */
  static fromParquet(root: SchemaTree): ParquetSchema {
    return new ParquetSchema(root.children.map(fieldOfNode));
  }
}

// ---- Arrow ------------------------------------------------------------------------------------

export function arrowType(type: ParquetType): DataType {
  switch (type.kind) {
    case 'string':
      return new Utf8();
    case 'boolean':
      return new Bool();
    case 'int8':
      return new Int8();
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'uint8':
      return new Uint8();
    case 'uint16':
      return new Uint16();
    case 'uint32':
      return new Uint32();
    case 'uint64':
      return new Uint64();
    case 'float':
      return new Float32();
    case 'double':
      return new Float64();
    case 'timestamp':
      return type.unit === 'ms' ? new TimestampMillisecond('UTC') : type.unit === 'us' ? new TimestampMicrosecond('UTC') : new TimestampNanosecond('UTC');
    case 'date':
      return new DateDay();
    case 'binary':
      return new Binary();
    case 'decimal':
      return new Decimal(type.scale, type.precision, 128);
    case 'list':
      return new List(new Field('item', arrowType(type.item), true));
    case 'map':
      // The entries struct is not nullable and its key is required, as the Parquet MAP spec says.
      return new Map_<Utf8, DataType>(
        new Field('entries', new Struct<{ key: Utf8; value: DataType }>([new Field('key', new Utf8(), false), new Field('value', arrowType(type.value), true)]), false),
      );
    case 'struct':
      return new Struct(type.fields.map(arrowField));
  }
}

function arrowField(f: ParquetField): Field {
  return new Field(f.name, arrowType(f.type), f.nullable);
}

// ---- Parquet footer → schema ------------------------------------------------------------------

function fieldOfNode(node: SchemaTree): ParquetField {
  const e = node.element;
  return { name: e.name, type: typeOfNode(node), nullable: e.repetition_type !== 'REQUIRED' };
}

function typeOfNode(node: SchemaTree): ParquetType {
  const e = node.element;
  const logical = e.logical_type;
  if (node.children.length > 0) {
    if (logical?.type === 'LIST' || e.converted_type === 'LIST') {
      // Standard 3-level list: <name> (LIST) → repeated group list → element.
      const repeated = node.children[0]!;
      const element = repeated.children.length === 1 ? repeated.children[0]! : repeated;
      return { kind: 'list', item: typeOfNode(element) };
    }
    if (logical?.type === 'MAP' || e.converted_type === 'MAP' || e.converted_type === 'MAP_KEY_VALUE') {
      const entries = node.children[0]!;
      const value = entries.children[1];
      return { kind: 'map', value: value ? typeOfNode(value) : { kind: 'string' } };
    }
    return { kind: 'struct', fields: node.children.map(fieldOfNode) };
  }
  if (logical?.type === 'DECIMAL') return { kind: 'decimal', precision: logical.precision, scale: logical.scale };
  if (e.converted_type === 'DECIMAL') return { kind: 'decimal', precision: e.precision ?? 38, scale: e.scale ?? 0 };
  if (logical?.type === 'TIMESTAMP') return { kind: 'timestamp', unit: logical.unit === 'MILLIS' ? 'ms' : logical.unit === 'MICROS' ? 'us' : 'ns' };
  if (e.converted_type === 'TIMESTAMP_MILLIS') return { kind: 'timestamp', unit: 'ms' };
  if (e.converted_type === 'TIMESTAMP_MICROS') return { kind: 'timestamp', unit: 'us' };
  if (e.type === 'INT96') return { kind: 'timestamp', unit: 'ns' };
  if (logical?.type === 'DATE' || e.converted_type === 'DATE') return { kind: 'date' };
  if (logical?.type === 'INTEGER') {
    const kind = `${logical.isSigned ? 'int' : 'uint'}${logical.bitWidth}` as ParquetType['kind'];
    return { kind } as ParquetType;
  }
  switch (e.type) {
    case 'BOOLEAN':
      return { kind: 'boolean' };
    case 'INT32':
      return { kind: 'int32' };
    case 'INT64':
      return { kind: 'int64' };
    case 'FLOAT':
      return { kind: 'float' };
    case 'DOUBLE':
      return { kind: 'double' };
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY':
      return logical?.type === 'STRING' || logical?.type === 'JSON' || logical?.type === 'ENUM' || e.converted_type === 'UTF8' ? { kind: 'string' } : { kind: 'binary' };
    default:
      throw new S3ParquetError('SCHEMA_INVALID', `column ${JSON.stringify(e.name)} has an unsupported Parquet type ${e.type ?? 'unknown'}`);
  }
}

// ---- compatibility ----------------------------------------------------------------------------

const INT_ORDER: Readonly<Record<string, number>> = { int8: 8, int16: 16, int32: 32, int64: 64 };
const UINT_ORDER: Readonly<Record<string, number>> = { uint8: 8, uint16: 16, uint32: 32, uint64: 64 };

/** Whether every value of `from` is exactly a value of `to` (a widening, or the same type). */
function widens(from: ParquetType, to: ParquetType): boolean {
  if (parquetTypeName(from) === parquetTypeName(to)) return true;
  const fi = INT_ORDER[from.kind];
  const fu = UINT_ORDER[from.kind];
  const ti = INT_ORDER[to.kind];
  const tu = UINT_ORDER[to.kind];
  if (fi !== undefined && ti !== undefined) return ti >= fi;
  if (fu !== undefined && tu !== undefined) return tu >= fu;
  if (fu !== undefined && ti !== undefined) return ti > fu;
  if (from.kind === 'float' && to.kind === 'double') return true;
  // Doubles hold every integer up to 2^53 exactly: 32-bit and smaller integers widen to double.
  if (to.kind === 'double' && ((fi !== undefined && fi <= 32) || (fu !== undefined && fu <= 32))) return true;
  if (from.kind === 'decimal' && to.kind === 'decimal') return to.scale >= from.scale && to.precision - to.scale >= from.precision - from.scale;
  return false;
}

function isNarrowing(from: ParquetType, to: ParquetType): boolean {
  return widens(to, from);
}

/**
 * What makes `next` unable to read data written with `old`, one line per field (empty when
 * compatible). Compatible: adding a nullable field, removing a nullable one, making a required
 * field nullable, widening a number type (int8→…→int64, uintN→uintM or a wider int, float→double,
 * ≤32-bit integers→double, a decimal with at least the old integer and fraction digits), and the
 * same rules inside lists, maps and structs. Everything else is a problem.
 */
export function checkSchemaCompatibility(old: ParquetSchema, next: ParquetSchema): string[] {
  const problems: string[] = [];
  compareFields(old.fields, next.fields, '', problems);
  return problems;
}

function compareFields(old: readonly ParquetField[], next: readonly ParquetField[], prefix: string, problems: string[]): void {
  for (const o of old) {
    const n = next.find((f) => f.name === o.name);
    const path = prefix + o.name;
    if (!n) {
      if (!o.nullable) problems.push(`field "${path}": a required field was removed; files written before still have it (keep it, as nullable if need be)`);
      continue;
    }
    if (o.nullable && !n.nullable) problems.push(`field "${path}": nullable → required; files written before may hold nulls`);
    compareTypes(o.type, n.type, path, problems);
  }
  for (const n of next) {
    if (!n.nullable && !old.some((o) => o.name === n.name)) {
      problems.push(`field "${prefix + n.name}": a new field must be nullable; files written before have no value for it`);
    }
  }
}

function compareTypes(o: ParquetType, n: ParquetType, path: string, problems: string[]): void {
  if (o.kind === 'list' && n.kind === 'list') return compareTypes(o.item, n.item, `${path}[]`, problems);
  if (o.kind === 'map' && n.kind === 'map') return compareTypes(o.value, n.value, `${path}{}`, problems);
  if (o.kind === 'struct' && n.kind === 'struct') return compareFields(o.fields, n.fields, `${path}.`, problems);
  if (widens(o, n)) return;
  const from = parquetTypeName(o);
  const to = parquetTypeName(n);
  problems.push(isNarrowing(o, n) ? `field "${path}": narrowing ${from} to ${to} would not hold every value written before` : `field "${path}": changing type ${from} to ${to} is not a widening`);
}
