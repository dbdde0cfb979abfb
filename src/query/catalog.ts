/**
 * What a query may name in a dataset: every column of its schema (for `select`), and the typed
 * ones the filter language can compare (strings, numbers, booleans, timestamps, maps).
 */
import { DataType, type Schema } from 'apache-arrow';
import { DATASETS, type DatasetName } from '../schema/datasets.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { withDerived, type DerivedColumn } from '../schema/derived.js';
import type { ColumnCatalog, ColumnType } from './filter/index.js';
import { converterFor, type Converter, type JsonValue } from './json-values.js';

export interface DatasetCatalog {
  readonly dataset: DatasetName;
  readonly schema: Schema;
  readonly eventTimeColumn: string;
  readonly columns: readonly string[];
  readonly filterColumns: ColumnCatalog;
  readonly converters: ReadonlyMap<string, Converter>;
  /** The promoted attributes (attribute key → typed column), so readers can put them back in place. */
  readonly promoted: readonly PromotedSpec[];
  /** Columns files of the newest version do not store: the engine computes them (derived-columns.ts). */
  readonly derived: readonly DerivedColumn[];
}

function filterType(type: DataType): ColumnType | undefined {
  if (DataType.isUtf8(type)) return 'string';
  if (DataType.isInt(type)) return 'int';
  if (DataType.isFloat(type)) return 'float';
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isTimestamp(type)) return 'timestamp';
  if (DataType.isMap(type)) return 'map';
  return undefined; // lists and structs are returned, not filtered on
}

export function datasetCatalog(dataset: DatasetName, promoted: readonly PromotedSpec[]): DatasetCatalog {
  const spec = DATASETS[dataset];
  // What readers see: the stored columns and the derived ones, in their old places.
  const schema = withDerived(spec.schema(promoted), spec.derived);
  const filterColumns = new Map<string, ColumnType>();
  const converters = new Map<string, Converter>();
  for (const f of schema.fields) {
    const t = filterType(f.type);
    if (t) filterColumns.set(f.name, t);
    converters.set(f.name, converterFor(f.type));
  }
  return { dataset, schema, eventTimeColumn: spec.eventTimeColumn, columns: schema.fields.map((f) => f.name), filterColumns, converters, promoted, derived: spec.derived };
}

/**
 * The record with its promoted columns put back into the maps they came out of (`attributes`,
 * `resource_attributes`), for readers that key on a map: a file of schema version 1 has no
 * resource columns and keeps those values in its map, so both versions read the same.
 */
export function promotedIntoMaps(rec: Readonly<Record<string, JsonValue>>, promoted: readonly PromotedSpec[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = { ...rec };
  for (const p of promoted) {
    const v = rec[p.column];
    if (v === null || v === undefined) continue;
    const map = p.map ?? 'attributes';
    const current = out[map];
    const base = current !== null && current !== undefined && typeof current === 'object' && !Array.isArray(current) ? current : {};
    out[map] = { ...base, [p.attribute]: v };
  }
  return out;
}
