/**
 * Amazon Athena: one `CREATE EXTERNAL TABLE` per dataset over `s3://bucket/prefix/<dataset>/`,
 * with partition projection, so new partitions are queryable without `MSCK REPAIR` or crawlers:
 * a date level is a `date` projection (Java format from the strftime pattern, range from three
 * years back to tomorrow), an hour/minute/… level an `integer` projection with its digits, the
 * `service_name` level (`by_service`) an `injected` projection (queries must then name the
 * service: `WHERE service_name = '…'`). Athena runs one statement at a time.
 * A dataset with a derived column (traces' `end_time`) is a table `<dataset>_files` and a view
 * `<dataset>` that adds it (derived-view.ts; Athena's timestamps are milliseconds).
 */
import { S3ParquetError } from '../errors.js';
import type { DdlContext } from './context.js';
import { header } from './context.js';
import { filesTable, sqlIdentifier, sqlString, type Column, type ColumnType, type PartitionColumn } from './model.js';
import { derivedView, millisecondSum } from './derived-view.js';

const quote = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

export function athenaType(t: ColumnType): string {
  switch (t.kind) {
    case 'string':
      return 'string';
    case 'int32':
      return 'int';
    case 'int64':
      return 'bigint';
    case 'double':
      return 'double';
    case 'bool':
      return 'boolean';
    case 'timestamp_ns':
      return 'timestamp';
    case 'list':
      return `array<${athenaType(t.item)}>`;
    case 'map':
      return `map<${athenaType(t.key)},${athenaType(t.value)}>`;
    case 'struct':
      return `struct<${t.fields.map((f: Column) => `${quote(f.name)}:${athenaType(f.type)}`).join(',')}>`;
  }
}

function partitionType(p: PartitionColumn): string {
  return p.kind === 'integer' ? 'int' : 'string';
}

function projection(p: PartitionColumn): [string, string][] {
  const k = (suffix: string): string => `projection.${p.name}.${suffix}`;
  switch (p.kind) {
    case 'integer':
      return [
        [k('type'), 'integer'],
        [k('range'), `${p.min},${p.max}`],
        [k('digits'), String(p.digits)],
      ];
    case 'date':
      return [
        [k('type'), 'date'],
        [k('format'), p.javaFormat],
        [k('range'), 'NOW-3YEARS,NOW+1DAYS'],
        [k('interval'), '1'],
        [k('interval.unit'), p.unit],
      ];
    case 'constant':
      return [
        [k('type'), 'enum'],
        [k('values'), p.value],
      ];
    case 'service':
      return [[k('type'), 'injected']];
    case 'enum':
      return [
        [k('type'), 'enum'],
        [k('values'), p.values.join(',')],
      ];
  }
}

export function renderAthena(ctx: DdlContext): string {
  const { layout, location } = ctx;
  if (location.backend !== 's3') {
    throw new S3ParquetError('INVALID_ARGUMENT', 'Athena reads S3 only: configure [s3] bucket (and prefix) for the location to use');
  }
  if (!layout.hive) {
    throw new S3ParquetError('INVALID_ARGUMENT', `Athena needs Hive-style partition levels (key=value) in [partitioning] format, got "${ctx.config.partitioning.format}"`);
  }
  const lines = ['Run each statement on its own (the Athena console and API take one at a time).'];
  if (layout.partitions.some((p) => p.kind === 'service')) lines.push('service_name is an injected projection: every query must filter it with = or IN.');
  if (layout.partitions.some((p) => p.kind === 'date')) lines.push('Dates are projected from three years back to tomorrow; widen projection.<column>.range for older data.');
  let out = header('Amazon Athena', ctx, lines);
  for (const t of ctx.tables) {
    const location_ = `s3://${location.root}/${t.dataset}/`;
    const props: [string, string][] = [['projection.enabled', 'true'], ...t.layout.partitions.flatMap(projection)];
    props.push(['storage.location.template', `${location_}${t.layout.template}/`]);
    out += `\nCREATE EXTERNAL TABLE IF NOT EXISTS ${quote(ctx.schema)}.${quote(filesTable(t))} (\n`;
    out += t.columns.map((c) => `  ${quote(c.name)} ${athenaType(c.type)}`).join(',\n');
    out += '\n)\n';
    if (t.layout.partitions.length > 0) out += `PARTITIONED BY (${t.layout.partitions.map((p) => `${quote(p.name)} ${partitionType(p)}`).join(', ')})\n`;
    out += `STORED AS PARQUET\nLOCATION ${sqlString(location_)}\n`;
    if (t.layout.partitions.length > 0) out += `TBLPROPERTIES (\n${props.map(([k, v]) => `  ${sqlString(k)} = ${sqlString(v)}`).join(',\n')}\n)`;
    out += ';\n';
    // Views in Athena are Presto/Trino SQL: double-quoted names.
    out += derivedView(t, ctx.schema, sqlIdentifier, (d) => millisecondSum(d, sqlIdentifier));
  }
  return out;
}
