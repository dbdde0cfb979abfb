/**
 * `[[partitioning.keys]]`: hash and range levels the daemon adds after the time levels. Each key
 * names a record field that every dataset it applies to has (`PARTITION_KEY_FIELDS`), so a level
 * is never a constant null for a whole dataset by mistake.
 */
import * as z from 'zod';
import { asNumber, checked, nonEmpty, oneOf, str, table, wholeNumber } from './fields.js';

export const KEY_DATASETS = ['traces', 'logs', 'metrics'] as const;
export type KeyDataset = (typeof KEY_DATASETS)[number];

/** The record fields a key may partition by, per dataset (values as their Parquet columns hold them). */
export const PARTITION_KEY_FIELDS: Readonly<Record<KeyDataset, readonly string[]>> = {
  traces: ['service_name', 'trace_id', 'name', 'kind', 'status_code', 'duration_ns'],
  logs: ['service_name', 'trace_id', 'severity_number', 'severity_text'],
  metrics: ['service_name', 'metric_name', 'metric_type'],
};

const ALL_FIELDS = [...new Set(Object.values(PARTITION_KEY_FIELDS).flat())] as [string, ...string[]];
const finite = z.preprocess(asNumber, z.number({ error: 'expected a number' }).refine(Number.isFinite, { error: 'expected a finite number' }));

export const partitionKeySchema = table({
  type: oneOf(['hash', 'range']),
  field: oneOf(ALL_FIELDS),
  /** The level's (column's) name; default `{field}_bucket` / `{field}_range`. */
  name: checked(str(), (n) => (/^([A-Za-z_][A-Za-z0-9_]*)?$/.test(n) ? undefined : 'expected a column name (letters, digits, _)')).default(''),
  datasets: z.array(oneOf(KEY_DATASETS), { error: 'expected an array of dataset names' }).min(1, { error: 'name at least one dataset' }).default([...KEY_DATASETS]),
  num_partitions: wholeNumber(1, 65_536).optional(),
  ranges: z.array(table({ from: finite, to: finite, label: nonEmpty('expected a non-empty label') })).optional(),
  default_label: nonEmpty('expected a non-empty label').default('other'),
}).superRefine((key, ctx) => {
  for (const dataset of key.datasets) {
    if (!PARTITION_KEY_FIELDS[dataset].includes(key.field)) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: `${dataset} records have no field "${key.field}" (they have ${PARTITION_KEY_FIELDS[dataset].join(', ')}); limit the key with datasets = [...]` });
    }
  }
  if (key.type === 'hash' && key.num_partitions === undefined) ctx.addIssue({ code: 'custom', path: ['num_partitions'], message: 'a hash key needs num_partitions' });
  if (key.type === 'hash' && key.ranges !== undefined) ctx.addIssue({ code: 'custom', path: ['ranges'], message: 'ranges belong to range keys' });
  if (key.type === 'range') {
    if (!key.ranges || key.ranges.length === 0) ctx.addIssue({ code: 'custom', path: ['ranges'], message: 'a range key needs ranges = [{ from = …, to = …, label = "…" }, …]' });
    const sorted = [...(key.ranges ?? [])].sort((a, b) => a.from - b.from);
    sorted.forEach((r, i) => {
      if (r.from >= r.to) ctx.addIssue({ code: 'custom', path: ['ranges'], message: `range "${r.label}" must have from < to` });
      const prev = sorted[i - 1];
      if (prev && prev.to > r.from) ctx.addIssue({ code: 'custom', path: ['ranges'], message: `ranges "${prev.label}" and "${r.label}" overlap` });
    });
  }
});

export type PartitionKeyConfig = z.output<typeof partitionKeySchema>;

/** A key's level (partition column) name: `name`, else `{field}_bucket` / `{field}_range`. */
export function keyLevelName(key: Pick<PartitionKeyConfig, 'type' | 'field' | 'name'>): string {
  return key.name !== '' ? key.name : `${key.field}_${key.type === 'hash' ? 'bucket' : 'range'}`;
}
