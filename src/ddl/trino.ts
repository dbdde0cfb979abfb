/**
 * Trino (Hive connector): one `CREATE TABLE … WITH (external_location, format = 'PARQUET',
 * partitioned_by)` per dataset, then `system.sync_partition_metadata` to register the
 * partitions already written (run it again, or schedule it, as new partitions appear).
 * Timestamps are `timestamp(9)`: the catalog needs `hive.timestamp-precision=NANOSECONDS`.
 * A dataset with a derived column (traces' `end_time`) is a table `<dataset>_files` and a view
 * `<dataset>` that adds it (derived-view.ts: Trino adds no nanosecond intervals, so a derived
 * value is exact to the millisecond of the duration; `duration_ns` stays exact).
 */
import { S3ParquetError } from '../errors.js';
import type { DdlContext } from './context.js';
import { header } from './context.js';
import { filesTable, sqlIdentifier, sqlString, type Column, type ColumnType, type PartitionColumn } from './model.js';
import { derivedView, millisecondSum } from './derived-view.js';

const quote = sqlIdentifier;

export function trinoType(t: ColumnType): string {
  switch (t.kind) {
    case 'string':
      return 'varchar';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'double':
      return 'double';
    case 'bool':
      return 'boolean';
    case 'timestamp_ns':
      return 'timestamp(9)';
    case 'list':
      return `array(${trinoType(t.item)})`;
    case 'map':
      return `map(${trinoType(t.key)}, ${trinoType(t.value)})`;
    case 'struct':
      return `row(${t.fields.map((f: Column) => `${quote(f.name)} ${trinoType(f.type)}`).join(', ')})`;
  }
}

function partitionType(p: PartitionColumn): string {
  return p.kind === 'integer' ? 'integer' : 'varchar';
}

export function renderTrino(ctx: DdlContext): string {
  const { layout, location } = ctx;
  if (!layout.hive) {
    throw new S3ParquetError('INVALID_ARGUMENT', `Trino's Hive connector needs Hive-style partition levels (key=value) in [partitioning] format, got "${ctx.config.partitioning.format}"`);
  }
  const base = location.backend === 'local' ? `file://${location.root}` : `s3://${location.root}`;
  let out = header('Trino (Hive connector)', ctx, [
    'Timestamps are timestamp(9): set hive.timestamp-precision=NANOSECONDS in the catalog properties.',
    'sync_partition_metadata registers partitions written so far; run it again (or on a schedule) for new ones.',
  ]);
  for (const t of ctx.tables) {
    const name = `${quote(ctx.schema)}.${quote(filesTable(t))}`;
    const columns = [
      ...t.columns.map((c) => `  ${quote(c.name)} ${trinoType(c.type)}`),
      ...t.layout.partitions.map((p) => `  ${quote(p.name)} ${partitionType(p)}`),
    ];
    const props = [`  external_location = ${sqlString(`${base}/${t.dataset}/`)}`, `  format = 'PARQUET'`];
    if (t.layout.partitions.length > 0) props.push(`  partitioned_by = ARRAY[${t.layout.partitions.map((p) => sqlString(p.name)).join(', ')}]`);
    out += `\nCREATE TABLE IF NOT EXISTS ${name} (\n${columns.join(',\n')}\n)\nWITH (\n${props.join(',\n')}\n);\n`;
    if (t.layout.partitions.length > 0) out += `CALL system.sync_partition_metadata(${sqlString(ctx.schema)}, ${sqlString(filesTable(t))}, 'FULL');\n`;
    out += derivedView(t, ctx.schema, quote, (d) => millisecondSum(d, quote));
  }
  return out;
}
