/**
 * Spark SQL: one `CREATE TABLE … USING PARQUET PARTITIONED BY … LOCATION` per dataset, then
 * `MSCK REPAIR TABLE` to register the partitions already written. Spark has no nanosecond
 * timestamp type and refuses Parquet TIMESTAMP(NANOS) unless
 * `spark.sql.legacy.parquet.nanosAsLong` is on, which reads them as BIGINT nanoseconds since the
 * epoch (UTC): the script turns it on and declares those columns BIGINT
 * (`timestamp_micros(start_time div 1000)` gives a TIMESTAMP). S3 is addressed as `s3a://`.
 * A dataset with a derived column (traces' `end_time`) is a table `<dataset>_files` and a view
 * `<dataset>` that adds it: `coalesce(end_time, start_time + duration_ns)`, exact (BIGINT ns).
 */
import { S3ParquetError } from '../errors.js';
import type { DdlContext } from './context.js';
import { header } from './context.js';
import { filesTable, sqlString, type Column, type ColumnType, type PartitionColumn } from './model.js';
import { derivedView } from './derived-view.js';

const quote = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

export function sparkType(t: ColumnType): string {
  switch (t.kind) {
    case 'string':
      return 'STRING';
    case 'int32':
      return 'INT';
    case 'int64':
    case 'timestamp_ns':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
    case 'list':
      return `ARRAY<${sparkType(t.item)}>`;
    case 'map':
      return `MAP<${sparkType(t.key)}, ${sparkType(t.value)}>`;
    case 'struct':
      return `STRUCT<${t.fields.map((f: Column) => `${quote(f.name)}: ${sparkType(f.type)}`).join(', ')}>`;
  }
}

function partitionType(p: PartitionColumn): string {
  return p.kind === 'integer' ? 'INT' : 'STRING';
}

export function renderSpark(ctx: DdlContext): string {
  const { layout, location } = ctx;
  if (!layout.hive) {
    throw new S3ParquetError('INVALID_ARGUMENT', `Spark tables need Hive-style partition levels (key=value) in [partitioning] format, got "${ctx.config.partitioning.format}"`);
  }
  const base = location.backend === 'local' ? `file://${location.root}` : `s3a://${location.root}`;
  let out = header('Spark SQL', ctx, [
    'Parquet TIMESTAMP(NANOS) columns are BIGINT nanoseconds since the epoch (UTC) here; timestamp_micros(col div 1000) converts.',
    'MSCK REPAIR TABLE registers partitions written so far; run it again (or on a schedule) for new ones.',
  ]);
  out += 'SET spark.sql.legacy.parquet.nanosAsLong = true;\n';
  for (const t of ctx.tables) {
    const name = `${quote(ctx.schema)}.${quote(filesTable(t))}`;
    const columns = [
      ...t.columns.map((c) => `  ${quote(c.name)} ${sparkType(c.type)}${c.type.kind === 'timestamp_ns' ? " COMMENT 'ns since the epoch, UTC'" : ''}`),
      ...t.layout.partitions.map((p) => `  ${quote(p.name)} ${partitionType(p)}`),
    ];
    out += `\nCREATE TABLE IF NOT EXISTS ${name} (\n${columns.join(',\n')}\n)\nUSING PARQUET\n`;
    if (t.layout.partitions.length > 0) out += `PARTITIONED BY (${t.layout.partitions.map((p) => quote(p.name)).join(', ')})\n`;
    out += `LOCATION ${sqlString(`${base}/${t.dataset}/`)};\n`;
    if (t.layout.partitions.length > 0) out += `MSCK REPAIR TABLE ${name};\n`;
    out += derivedView(t, ctx.schema, quote, (d) => `${quote(d.sum[0])} + ${quote(d.sum[1])}`);
  }
  return out;
}
