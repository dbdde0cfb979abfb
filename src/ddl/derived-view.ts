/**
 * The view Athena, Trino and Spark get for a dataset with derived columns (src/schema/derived.ts:
 * traces' `end_time`, not stored since schema version 3): the files are a table named
 * `<dataset>_files` that declares the column too — files of versions 1 and 2 fill it, newer ones
 * leave it null — and the view named after the dataset selects every column, the derived one as
 * `coalesce(stored, computed)`. Queries keep naming `traces` and `end_time`.
 */
import type { DerivedColumn } from '../schema/derived.js';
import { filesTable, type DatasetTable } from './model.js';

/** `CREATE OR REPLACE VIEW <dataset>` over `<dataset>_files`, or "" for a dataset without derived columns. */
export function derivedView(t: DatasetTable, schema: string, quote: (name: string) => string, computed: (d: DerivedColumn) => string): string {
  if (t.derived.length === 0) return '';
  const columns = [
    ...t.columns.map((c) => {
      const d = t.derived.find((x) => x.name === c.name);
      return d ? `coalesce(${quote(d.name)}, ${computed(d)}) AS ${quote(d.name)}` : quote(c.name);
    }),
    ...t.layout.partitions.map((p) => quote(p.name)),
  ];
  const note = t.derived.map((d) => `${d.name} = ${d.sum.join(' + ')}`).join(', ');
  return `-- ${note}: stored by files of older schema versions, derived for the rest.\nCREATE OR REPLACE VIEW ${quote(schema)}.${quote(t.dataset)} AS SELECT\n  ${columns.join(',\n  ')}\nFROM ${quote(schema)}.${quote(filesTable(t))};\n`;
}

/**
 * Presto/Trino SQL for a timestamp plus a bigint of nanoseconds: its intervals (and `date_add`)
 * stop at milliseconds, so the sub-millisecond part of the duration is dropped (the derived
 * value is at most 1 ms early; `duration_ns` itself is exact).
 */
export function millisecondSum(d: DerivedColumn, quote: (name: string) => string): string {
  return `date_add('millisecond', ${quote(d.sum[1])} / 1000000, ${quote(d.sum[0])})`;
}
