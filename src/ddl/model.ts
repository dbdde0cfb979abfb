/**
 * What every engine's DDL is made of: the datasets' columns (from the Arrow schemas, the same
 * contract the writer uses), the partition columns that `[partitioning] format` (and
 * `by_service`) put in the paths, and where the data lives.
 */
import { resolve } from 'node:path';
import { DataType, Type, type Field } from 'apache-arrow';
import { effectiveBackend, type Config } from '../config/index.js';
import { keyLevelName } from '../config/partition-keys-schema.js';
import { promotedSpecs } from '../schema/datasets.js';
import { S3ParquetError } from '../errors.js';
import { DATASETS, type DatasetName } from '../schema/datasets.js';
import { withDerived, type DerivedColumn } from '../schema/derived.js';

/** A type as the engines need it: a primitive, or a list, map or struct of types. */
export type ColumnType =
  | { readonly kind: 'string' | 'int32' | 'int64' | 'double' | 'bool' | 'timestamp_ns' }
  | { readonly kind: 'list'; readonly item: ColumnType }
  | { readonly kind: 'map'; readonly key: ColumnType; readonly value: ColumnType }
  | { readonly kind: 'struct'; readonly fields: readonly Column[] };

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

/**
 * A partition level `name=value`: `integer` when the value is one number directive (`%H` →
 * 0–23, two digits), `date` when it is a date/time pattern (`%Y-%m-%d` → Java `yyyy-MM-dd`),
 * `constant` for a level without directives, `service` for the `service_name=` level of
 * `by_service`.
 */
export type PartitionColumn =
  | { readonly name: string; readonly kind: 'service' }
  | { readonly name: string; readonly kind: 'constant'; readonly value: string }
  | { readonly name: string; readonly kind: 'integer'; readonly min: number; readonly max: number; readonly digits: number }
  | { readonly name: string; readonly kind: 'date'; readonly javaFormat: string; readonly unit: 'YEARS' | 'MONTHS' | 'DAYS' | 'HOURS' | 'MINUTES' }
  /** A range key's level: one of its labels (or the default label). */
  | { readonly name: string; readonly kind: 'enum'; readonly values: readonly string[] };

export interface Layout {
  /** Hive-style `key=value` levels, outermost first; empty when `hive` is false. */
  readonly partitions: readonly PartitionColumn[];
  /** False when some level is not `key=value`: engines that need Hive layouts cannot use it. */
  readonly hive: boolean;
  /** The partition part of a path with `${name}` placeholders (Athena's location template). */
  readonly template: string;
}

export interface DatasetTable {
  readonly dataset: DatasetName;
  /** The dataset's levels: the time layout plus the `[[partitioning.keys]]` that apply to it. */
  readonly layout: Layout;
  /**
   * Data columns as readers see them, derived ones included in their place; a column named like
   * a partition column is left out (the path's value wins).
   */
  readonly columns: readonly Column[];
  /**
   * Columns among `columns` the newest files do not store (older ones do): each engine reads the
   * stored value where there is one, else computes the sum (a view over the files' table).
   */
  readonly derived: readonly DerivedColumn[];
  /** Left out because a partition column has its name. */
  readonly shadowed: readonly string[];
}

export interface Location {
  readonly backend: 'local' | 's3';
  /** Absolute directory (local) or `bucket/prefix` without a scheme or trailing slash (S3). */
  readonly root: string;
  readonly clientSideEncrypted: boolean;
}

const INTEGER_DIRECTIVES: Readonly<Record<string, { min: number; max: number; digits: number }>> = {
  '%Y': { min: 1970, max: 2100, digits: 4 },
  '%m': { min: 1, max: 12, digits: 2 },
  '%d': { min: 1, max: 31, digits: 2 },
  '%H': { min: 0, max: 23, digits: 2 },
  '%M': { min: 0, max: 59, digits: 2 },
  '%j': { min: 1, max: 366, digits: 3 },
};
const JAVA: Readonly<Record<string, string>> = { Y: 'yyyy', m: 'MM', d: 'dd', H: 'HH', M: 'mm', j: 'DDD' };
const UNIT_OF: Readonly<Record<string, 'YEARS' | 'MONTHS' | 'DAYS' | 'HOURS' | 'MINUTES'>> = { Y: 'YEARS', m: 'MONTHS', d: 'DAYS', j: 'DAYS', H: 'HOURS', M: 'MINUTES' };
const UNIT_RANK = ['YEARS', 'MONTHS', 'DAYS', 'HOURS', 'MINUTES'] as const;

/** A strftime value pattern as a Java DateTimeFormatter pattern (literals quoted). */
function javaPattern(pattern: string): { format: string; unit: (typeof UNIT_RANK)[number] } {
  let out = '';
  let literal = '';
  let unit: (typeof UNIT_RANK)[number] = 'YEARS';
  const flush = (): void => {
    if (literal === '') return;
    out += /[A-Za-z']/.test(literal) ? `'${literal.replace(/'/g, "''")}'` : literal;
    literal = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '%') {
      literal += pattern[i];
      continue;
    }
    const d = pattern[++i]!;
    if (d === '%') {
      literal += '%';
      continue;
    }
    flush();
    out += JAVA[d];
    const u = UNIT_OF[d]!;
    if (UNIT_RANK.indexOf(u) > UNIT_RANK.indexOf(unit)) unit = u;
  }
  flush();
  return { format: out, unit };
}

export function partitionLayout(config: Pick<Config, 'partitioning'>): Layout {
  const levels: PartitionColumn[] = [];
  const template: string[] = [];
  let hive = true;
  if (config.partitioning.by_service) {
    levels.push({ name: 'service_name', kind: 'service' });
    template.push('service_name=${service_name}');
  }
  for (const segment of config.partitioning.format.split('/')) {
    const m = /^([a-z_][a-z0-9_]*)=(.+)$/.exec(segment);
    if (!m) {
      hive = false;
      continue;
    }
    const [, name, value] = m as unknown as [string, string, string];
    const integer = INTEGER_DIRECTIVES[value];
    if (integer) levels.push({ name, kind: 'integer', ...integer });
    else if (!/%[YmdHMj]/.test(value)) levels.push({ name, kind: 'constant', value: value.replace(/%%/g, '%') });
    else {
      const { format, unit } = javaPattern(value);
      levels.push({ name, kind: 'date', javaFormat: format, unit });
    }
    template.push(`${name}=\${${name}}`);
  }
  return hive ? { partitions: levels, hive, template: template.join('/') } : { partitions: [], hive, template: '' };
}

function columnType(t: DataType): ColumnType {
  switch (t.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8:
      return { kind: 'string' };
    case Type.Int:
      return { kind: (t as unknown as { bitWidth: number }).bitWidth === 64 ? 'int64' : 'int32' };
    case Type.Float:
      return { kind: 'double' };
    case Type.Bool:
      return { kind: 'bool' };
    case Type.Timestamp:
      return { kind: 'timestamp_ns' };
    case Type.List:
      return { kind: 'list', item: columnType((t.children[0] as Field).type as DataType) };
    case Type.Map: {
      const entries = (t.children[0] as Field).type as DataType;
      const [key, value] = entries.children as Field[];
      return { kind: 'map', key: columnType(key!.type as DataType), value: columnType(value!.type as DataType) };
    }
    case Type.Struct:
      return { kind: 'struct', fields: (t.children as Field[]).map((f) => ({ name: f.name, type: columnType(f.type as DataType) })) };
    default:
      throw new S3ParquetError('INTERNAL', `no DDL mapping for Arrow type ${String(t)}`);
  }
}

/**
 * The time layout plus a dataset's key levels: a hash key is an integer 0..N-1 (a null value's
 * `__HIVE_DEFAULT_PARTITION__` is outside it), a range key one of its labels.
 */
export function withKeyLevels(config: Pick<Config, 'partitioning'>, dataset: DatasetName, layout: Layout): Layout {
  if (!layout.hive) return layout;
  const partitions = [...layout.partitions];
  let template = layout.template;
  for (const key of config.partitioning.keys) {
    if (!key.datasets.includes(dataset)) continue;
    const name = keyLevelName(key);
    const n = key.num_partitions ?? 1;
    partitions.push(
      key.type === 'hash'
        ? { name, kind: 'integer', min: 0, max: n - 1, digits: 1 }
        : { name, kind: 'enum', values: [...new Set([...(key.ranges ?? []).map((r) => r.label), key.default_label])] },
    );
    template += `${template === '' ? '' : '/'}${name}=\${${name}}`;
  }
  return { partitions, hive: true, template };
}

export function datasetTable(config: Config, dataset: DatasetName, timeLayout: Layout): DatasetTable {
  const layout = withKeyLevels(config, dataset, timeLayout);
  const spec = DATASETS[dataset];
  const schema = withDerived(spec.schema(promotedSpecs(config)[dataset]), spec.derived);
  const partitionNames = new Set(layout.partitions.map((p) => p.name));
  const columns: Column[] = [];
  const shadowed: string[] = [];
  for (const f of schema.fields) {
    if (partitionNames.has(f.name)) shadowed.push(f.name);
    else columns.push({ name: f.name, type: columnType(f.type as DataType) });
  }
  const derived = spec.derived.filter((d) => columns.some((c) => c.name === d.name));
  return { dataset, layout, columns, shadowed, derived };
}

export function storageLocation(config: Config): Location {
  const clientSideEncrypted = config.s3.encryption.type === 'client';
  if (effectiveBackend(config) === 'local') return { backend: 'local', root: resolve(config.storage.local_path), clientSideEncrypted: false };
  const prefix = config.s3.prefix.replace(/^\/+|\/+$/g, '');
  return { backend: 's3', root: prefix === '' ? config.s3.bucket : `${config.s3.bucket}/${prefix}`, clientSideEncrypted };
}

/**
 * The name of the table over a dataset's files when the dataset has derived columns: the view
 * named after the dataset adds them (Athena, Trino, Spark).
 */
export function filesTable(t: DatasetTable): string {
  return t.derived.length > 0 ? `${t.dataset}_files` : t.dataset;
}

/** A double-quoted SQL identifier (DuckDB, Trino, and Athena's views, which are Trino SQL). */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
