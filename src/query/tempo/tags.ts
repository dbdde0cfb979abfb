/**
 * Tempo's tag autocomplete: tag names by scope and the values of one tag, from a bounded scan
 * of the newest data in the range (spans/distinct-scan.ts).
 */
import { S3ParquetError } from '../../errors.js';
import type { RecordSource } from '../record-source.js';
import type { JsonValue } from '../json-values.js';
import { isResourceSpec, type PromotedSpec } from '../../schema/promoted.js';
import { distinctValues, mapKeys } from '../spans/distinct-scan.js';
import { INTRINSICS, KIND_VALUES, STATUS_VALUES } from '../traceql/types.js';

export interface TagRange {
  readonly startNs: bigint;
  readonly endNs: bigint;
}

export interface ScopedTags {
  readonly span: string[];
  readonly resource: string[];
  readonly intrinsic: string[];
}

/** Tag names seen in the range, per scope (promoted columns count under their attribute key). */
export async function tagNames(source: RecordSource, range: TagRange): Promise<ScopedTags> {
  const promoted = source.catalog('traces').promoted;
  const select = ['attributes', 'resource_attributes', ...promoted.map((p) => p.column)];
  const found = await distinctValues(source, {
    ...range,
    select,
    extract: (rec) => [
      ...mapKeys(rec.attributes).map((k) => `s${k}`),
      ...mapKeys(rec.resource_attributes).map((k) => `r${k}`),
      ...promoted.filter((p) => rec[p.column] !== null && rec[p.column] !== undefined).map((p) => `${isResourceSpec(p) ? 'r' : 's'}${p.attribute}`),
    ],
    maxValues: 2_000,
  });
  const span = found.values.filter((v) => v.startsWith('s')).map((v) => v.slice(1));
  const resource = found.values.filter((v) => v.startsWith('r')).map((v) => v.slice(1));
  return { span, resource, intrinsic: [...INTRINSICS].sort() };
}

export type TagValueType = 'string' | 'int' | 'float' | 'bool' | 'keyword';

export interface TagValues {
  readonly type: TagValueType;
  readonly values: string[];
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function text(v: JsonValue | undefined): string[] {
  return v === null || v === undefined ? [] : [typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)];
}

function entry(v: JsonValue | undefined, key: string): string[] {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) ? text(v[key]) : [];
}

function promotedType(p: PromotedSpec): TagValueType {
  return p.type === 'int64' ? 'int' : p.type === 'double' ? 'float' : p.type === 'bool' ? 'bool' : 'string';
}

/**
 * Values of a scoped tag (`resource.service.name`, `span.http.request.method`, `.x`, `name`,
 * `status`, `kind`, `statusMessage`, `rootName`, `rootServiceName`) in the range, narrowed by
 * `narrow` (an engine filter, e.g. from the TraceQL query being written) when given.
 */
export async function tagValues(source: RecordSource, tag: string, range: TagRange, narrow?: string): Promise<TagValues> {
  const promoted = source.catalog('traces').promoted;
  const scan = async (select: string[], filter: string, extract: (rec: Readonly<Record<string, JsonValue>>) => string[]): Promise<string[]> =>
    (await distinctValues(source, { ...range, select, filter: narrow ? `(${filter}) AND (${narrow})` : filter, extract })).values;
  const column = async (col: string, filter = `${col} IS NOT NULL`): Promise<string[]> => scan([col], filter, (r) => text(r[col]));
  switch (tag) {
    case 'status':
      return { type: 'keyword', values: [...STATUS_VALUES] };
    case 'kind':
      return { type: 'keyword', values: [...KIND_VALUES] };
    case 'name':
      return { type: 'string', values: await column('name') };
    case 'statusMessage':
      return { type: 'string', values: await column('status_message') };
    case 'rootName':
      return { type: 'string', values: await column('name', 'parent_span_id IS NULL') };
    case 'rootServiceName':
      return { type: 'string', values: await column('service_name', 'parent_span_id IS NULL AND service_name IS NOT NULL') };
    case 'duration':
    case 'traceDuration':
      throw new S3ParquetError('INVALID_ARGUMENT', `values of ${tag} are not listed (it is a duration; compare it with e.g. ${tag} > 100ms)`);
  }
  const scoped = /^(span|resource)?\.(.+)$/.exec(tag);
  if (!scoped) throw new S3ParquetError('INVALID_ARGUMENT', `invalid tag ${JSON.stringify(tag)}: expected span.x, resource.x, .x or an intrinsic (${INTRINSICS.join(', ')})`);
  const scope = scoped[1];
  const key = scoped[2]!;
  const values = new Set<string>();
  let type: TagValueType = 'string';
  // A promoted key: its typed column, and its map for values that did not fit (and older files).
  const fromColumn = async (p: PromotedSpec | undefined): Promise<void> => {
    if (p === undefined) return;
    const typed = await column(p.column);
    if (values.size === 0) type = promotedType(p);
    for (const v of typed) values.add(v);
  };
  if (scope !== 'span') {
    if (key === 'service.name') for (const v of await column('service_name')) values.add(v);
    else {
      for (const v of await scan(['resource_attributes'], `resource_attributes[${quote(key)}] IS NOT NULL`, (r) => entry(r.resource_attributes, key))) values.add(v);
      await fromColumn(promoted.find((x) => isResourceSpec(x) && x.attribute === key));
    }
  }
  if (scope !== 'resource') {
    for (const v of await scan(['attributes'], `attributes[${quote(key)}] IS NOT NULL`, (r) => entry(r.attributes, key))) values.add(v);
    await fromColumn(promoted.find((x) => !isResourceSpec(x) && x.attribute === key));
  }
  return { type, values: [...values].sort() };
}
