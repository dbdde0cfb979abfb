/**
 * Records (plain JSON-like objects) ↔ the schema: validation into Arrow record batches, and
 * schema inference when a batch write declares none.
 */
import { makeData, RecordBatch, Struct } from 'apache-arrow';
import { S3ParquetError } from '../errors.js';
import { ParquetSchema } from '../parquet/schema.js';
import { parquetTypeName, type ParquetType } from '../parquet/types.js';
import { buildColumn, normalizeObject, ValueProblem, type Canonical } from './values.js';

export type InputRecord = Readonly<Record<string, unknown>>;

/** A record that does not fit the schema, with its index in the operation's record list. */
export function recordError(index: number, path: string, reason: string): S3ParquetError {
  const field = path.replace(/^\./, '');
  return new S3ParquetError('SCHEMA_INVALID', `record ${index}: field "${field}" ${reason}`);
}

/** Every record checked against the schema, in canonical form; throws at the first misfit. */
export function normalizeRecords(schema: ParquetSchema, records: readonly InputRecord[], firstIndex = 0): Record<string, Canonical>[] {
  return records.map((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      throw new S3ParquetError('SCHEMA_INVALID', `record ${firstIndex + i}: expected an object, got ${Array.isArray(r) ? 'an array' : String(r)}`);
    }
    try {
      return normalizeObject(schema.fields, r);
    } catch (err) {
      if (err instanceof ValueProblem) throw recordError(firstIndex + i, err.path, err.reason);
      throw err;
    }
  });
}

/** Canonical records (from `normalizeRecords`) → one Arrow record batch of the schema. */
export function buildBatch(schema: ParquetSchema, rows: readonly Record<string, Canonical>[]): RecordBatch {
  const arrow = schema.toArrow();
  const children = schema.fields.map((f) => buildColumn(f.type, rows.map((r) => r[f.name] ?? null)));
  const data = makeData({ type: new Struct(arrow.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(arrow, data);
}

// ---- inference --------------------------------------------------------------------------------

/** The item type of a list only ever seen empty: string, unless a later record says otherwise. */
const UNKNOWN_ITEM: ParquetType = { kind: 'string' };

const RFC3339_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** The type a single non-null value suggests. */
function typeOfValue(v: unknown, at: () => string): ParquetType {
  if (typeof v === 'string') return RFC3339_TIME.test(v) ? { kind: 'timestamp', unit: 'us' } : { kind: 'string' };
  if (typeof v === 'boolean') return { kind: 'boolean' };
  if (typeof v === 'bigint') return { kind: 'int64' };
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int64' } : { kind: 'double' };
  if (v instanceof Date) return { kind: 'timestamp', unit: 'us' };
  if (v instanceof Uint8Array) return { kind: 'binary' };
  if (Array.isArray(v)) {
    let item: ParquetType | null = null;
    for (const x of v) if (x !== null && x !== undefined) item = merge(item, typeOfValue(x, at), at);
    return { kind: 'list', item: item ?? UNKNOWN_ITEM };
  }
  if (typeof v === 'object' && v !== null) {
    return { kind: 'struct', fields: Object.entries(v).filter(([, x]) => x !== null && x !== undefined).flatMap(([name, x]) => {
      return [{ name, type: typeOfValue(x, at), nullable: true }];
    }) };
  }
  throw new S3ParquetError('SCHEMA_INVALID', `${at()}: cannot infer a type for ${typeof v}`);
}

/** The common type of two observations: int64 + double → double; timestamps seen as text
 * alongside other text → string; structs merge field-wise; anything else conflicts. */
function merge(a: ParquetType | null, b: ParquetType, at: () => string): ParquetType {
  if (a === null || a === UNKNOWN_ITEM) return b;
  if (b === UNKNOWN_ITEM) return a;
  if (a.kind === b.kind && a.kind !== 'list' && a.kind !== 'struct') return a;
  const kinds = new Set([a.kind, b.kind]);
  if (kinds.has('int64') && kinds.has('double') && kinds.size === 2) return { kind: 'double' };
  if (kinds.has('string') && kinds.has('timestamp') && kinds.size === 2) return { kind: 'string' };
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', item: merge(a.item, b.item, at) };
  if (a.kind === 'struct' && b.kind === 'struct') {
    const fields = [...a.fields];
    for (const f of b.fields) {
      const i = fields.findIndex((x) => x.name === f.name);
      if (i < 0) fields.push(f);
      else fields[i] = { ...fields[i]!, type: merge(fields[i]!.type, f.type, () => `${at()}.${f.name}`) };
    }
    return { kind: 'struct', fields };
  }
  throw new S3ParquetError('SCHEMA_INVALID', `${at()}: conflicting types ${parquetTypeName(a)} and ${parquetTypeName(b)}; declare the schema with withSchema()`);
}

/**
 * A schema from the records themselves: every field nullable; integers int64, other numbers
 * double, RFC 3339 text with a time and offset timestamp (microseconds), objects structs, arrays
 * lists. Conflicts (a field that is a number in one record and text in another) are errors that
 * name the record and field; a field that is only ever null becomes string.
 */
export function inferSchema(records: readonly InputRecord[]): ParquetSchema {
  const types = new Map<string, ParquetType | null>();
  records.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new S3ParquetError('SCHEMA_INVALID', `record ${i}: expected an object`);
    for (const [name, v] of Object.entries(r)) {
      const at = (): string => `record ${i}: field "${name}"`;
      const seen = types.get(name) ?? null;
      types.set(name, v === null || v === undefined ? seen : merge(seen, typeOfValue(v, at), at));
    }
  });
  let schema = ParquetSchema.empty();
  for (const [name, type] of types) schema = schema.withField(name, type ?? { kind: 'string' }, true);
  return schema;
}
