/**
 * Reading files of any schema: the footers of the files a read covers are merged into one schema
 * (columns missing from a file read as null; a column whose type differs across files takes the
 * wider type, and incompatible types are an error naming the files), which then gives the filter
 * its column types and each column its JSON conversion.
 */
import { parquetSchema, type FileMetaData } from 'hyparquet';
import { S3ParquetError } from '../errors.js';
import type { ColumnCatalog, ColumnType } from '../query/filter/index.js';
import { int64, nsToRfc3339, type Converter, type JsonValue } from '../query/json-values.js';
import { checkSchemaCompatibility, ParquetSchema } from '../parquet/schema.js';
import { parquetTypeName, type ParquetField, type ParquetType } from '../parquet/types.js';

const FRACTION_DIGITS = { ms: 3, us: 6, ns: 9 } as const;

/** The schemas of several files as one: union by name, each column at its widest type. */
export function mergeFileSchemas(files: readonly { key: string; metadata: FileMetaData }[]): ParquetSchema {
  let merged = ParquetSchema.empty();
  const firstSeen = new Map<string, string>();
  for (const { key, metadata } of files) {
    const schema = ParquetSchema.fromParquet(parquetSchema(metadata));
    for (const f of schema.fields) {
      const known = merged.field(f.name);
      if (!known) {
        merged = merged.withField(f.name, f.type, true);
        firstSeen.set(f.name, key);
        continue;
      }
      const one = ParquetSchema.of([{ ...known, nullable: true }]);
      const other = ParquetSchema.of([{ ...f, nullable: true }]);
      if (checkSchemaCompatibility(one, other).length === 0) merged = merged.withField(f.name, f.type, true);
      else if (checkSchemaCompatibility(other, one).length > 0) {
        throw new S3ParquetError(
          'SCHEMA_INVALID',
          `field "${f.name}" is ${parquetTypeName(known.type)} in ${firstSeen.get(f.name)} but ${parquetTypeName(f.type)} in ${key}; read the two apart`,
        );
      }
    }
  }
  return merged;
}

function filterType(type: ParquetType): ColumnType | undefined {
  switch (type.kind) {
    case 'string':
    case 'date': // read as YYYY-MM-DD text, which orders like the dates
      return 'string';
    case 'boolean':
      return 'bool';
    case 'timestamp':
      return 'timestamp';
    case 'float':
    case 'double':
    case 'decimal':
      return 'float';
    case 'map':
      return type.value.kind === 'string' ? 'map' : undefined;
    case 'list':
    case 'struct':
    case 'binary':
      return undefined;
    default:
      return 'int';
  }
}

function converter(type: ParquetType): Converter {
  switch (type.kind) {
    case 'timestamp': {
      const digits = FRACTION_DIGITS[type.unit];
      return (v) => (typeof v === 'bigint' ? nsToRfc3339(v).slice(0, 20 + digits) + 'Z' : null);
    }
    case 'int64':
    case 'uint64':
      return (v) => int64(v ?? null);
    case 'float':
    case 'double':
      return (v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : ((v ?? null) as JsonValue));
    case 'binary':
      return (v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : typeof v === 'string' ? Buffer.from(v, 'latin1').toString('base64') : null);
    case 'list': {
      const item = converter(type.item);
      return (v) => (Array.isArray(v) ? v.map(item) : null);
    }
    case 'map': {
      const value = converter(type.value);
      return (v) => {
        if (v === null || v === undefined) return null;
        const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as object);
        return Object.fromEntries(entries.map(([k, x]) => [String(k), value(x)]));
      };
    }
    case 'struct': {
      const fields = type.fields.map((f: ParquetField) => [f.name, converter(f.type)] as const);
      return (v) => {
        if (v === null || v === undefined || typeof v !== 'object') return null;
        const o = v as Record<string, unknown>;
        return Object.fromEntries(fields.map(([name, conv]) => [name, conv(o[name] ?? null)]));
      };
    }
    default:
      return (v) => (v === undefined ? null : (v as JsonValue));
  }
}

export interface FileCatalog {
  readonly schema: ParquetSchema;
  readonly filterColumns: ColumnCatalog;
  readonly converters: ReadonlyMap<string, Converter>;
}

export function fileCatalog(schema: ParquetSchema): FileCatalog {
  const filterColumns = new Map<string, ColumnType>();
  const converters = new Map<string, Converter>();
  for (const f of schema.fields) {
    const t = filterType(f.type);
    if (t) filterColumns.set(f.name, t);
    converters.set(f.name, converter(f.type));
  }
  return { schema, filterColumns, converters };
}
