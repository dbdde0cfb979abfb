/**
 * DuckDB: a script of views named after the datasets over `read_parquet` (Hive partitioning,
 * union by name), so `duckdb lake.duckdb -c "$(s3-parquet-connector ddl --engine duckdb)"`
 * creates them. Over S3 it first creates a secret that takes credentials from the AWS chain
 * (environment, profile, instance role); none are printed. A local dataset with no file yet gets
 * an empty view with its columns (DuckDB cannot create a view over a glob that matches nothing).
 *
 * A derived column (traces' `end_time`, not stored since schema version 3): the files are read
 * under an empty relation that has every column with its type (`UNION ALL BY NAME`), so the
 * column exists — null — even when no file stores it, in the query port's column order; then
 * `coalesce` keeps a stored value (versions 1 and 2) and computes the rest exactly, in
 * nanoseconds (`make_timestamp_ns(epoch_ns(start_time) + duration_ns)`; the writer's clamp at
 * 2^63 − 1 reads as DuckDB's `infinity`, as a stored one does).
 */
import type { DdlContext } from './context.js';
import { header } from './context.js';
import { sqlIdentifier, sqlString, type Column, type ColumnType, type DatasetTable, type PartitionColumn } from './model.js';
import type { DerivedColumn } from '../schema/derived.js';

const quote = sqlIdentifier;

export function duckdbType(t: ColumnType): string {
  switch (t.kind) {
    case 'string':
      return 'VARCHAR';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
    case 'timestamp_ns':
      return 'TIMESTAMP_NS';
    case 'list':
      return `${duckdbType(t.item)}[]`;
    case 'map':
      return `MAP(${duckdbType(t.key)}, ${duckdbType(t.value)})`;
    case 'struct':
      return `STRUCT(${t.fields.map((f: Column) => `${quote(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
  }
}

/** DuckDB's type for a partition level (pinned, so a service called "123" stays text). */
function partitionType(p: PartitionColumn): string {
  if (p.kind === 'integer') return 'INTEGER';
  if (p.kind === 'date' && p.javaFormat === 'yyyy-MM-dd') return 'DATE';
  return 'VARCHAR';
}

/** DuckDB's exact sum of a timestamp_ns and a bigint of nanoseconds. */
export function duckdbDerived(d: DerivedColumn): string {
  const ns = `epoch_ns(${quote(d.sum[0])}) + ${quote(d.sum[1])}`;
  return `coalesce(${quote(d.name)}, CASE WHEN ${ns} = 9223372036854775807 THEN 'infinity'::TIMESTAMP_NS ELSE make_timestamp_ns(${ns}) END)`;
}

/** Every column as a typed null: the columns of an empty view, or the head of a union by name. */
function typedNulls(t: DatasetTable): string[] {
  return [
    ...t.columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${quote(c.name)}`),
    ...t.layout.partitions.map((p) => `CAST(NULL AS ${partitionType(p)}) AS ${quote(p.name)}`),
  ];
}

function secret(ctx: DdlContext): string {
  const s3 = ctx.config.s3;
  const opts = ['TYPE s3', 'PROVIDER credential_chain', `REGION ${sqlString(s3.region)}`];
  if (s3.endpoint !== '') {
    const url = new URL(s3.endpoint);
    opts.push(`ENDPOINT ${sqlString(url.host)}`, `USE_SSL ${url.protocol === 'https:'}`);
  }
  if (s3.force_path_style || s3.endpoint !== '') opts.push(`URL_STYLE ${sqlString(s3.force_path_style ? 'path' : 'vhost')}`);
  return `CREATE OR REPLACE SECRET s3parquet (${opts.join(', ')});\n`;
}

export function renderDuckdb(ctx: DdlContext): string {
  const { layout, location } = ctx;
  const base = location.backend === 'local' ? location.root : `s3://${location.root}`;
  let out = header('DuckDB', ctx, [
    'Run: duckdb lake.duckdb -c "$(s3-parquet-connector ddl --engine duckdb)"   (or duckdb -cmd "…" for a shell)',
  ]);
  if (location.backend === 's3') out += secret(ctx);
  for (const t of ctx.tables) {
    const hiveTypes = t.layout.partitions.map((p) => `${sqlString(p.name)}: ${partitionType(p)}`);
    const glob = `${base}/${t.dataset}/**/*.parquet`;
    if (location.backend === 'local' && ctx.hasFiles && !ctx.hasFiles(t.dataset)) {
      const cols = typedNulls(t);
      out += `-- No files under ${base}/${t.dataset}/ yet: an empty view with the columns; run ddl again after the first flush.\n`;
      out += `CREATE OR REPLACE VIEW ${quote(t.dataset)} AS SELECT\n  ${cols.join(',\n  ')}\nWHERE false;\n`;
      continue;
    }
    const options = layout.hive
      ? [`hive_partitioning = true`, ...(hiveTypes.length > 0 ? [`hive_types = {${hiveTypes.join(', ')}}`] : []), 'union_by_name = true']
      : ['hive_partitioning = false', 'union_by_name = true'];
    const files = `read_parquet(${sqlString(glob)}, ${options.join(', ')})`;
    if (t.derived.length === 0) {
      out += `CREATE OR REPLACE VIEW ${quote(t.dataset)} AS SELECT * FROM ${files};\n`;
      continue;
    }
    const replace = t.derived.map((d) => `${duckdbDerived(d)} AS ${quote(d.name)}`).join(', ');
    out += `-- ${t.derived.map((d) => `${d.name} = ${d.sum.join(' + ')}`).join(', ')}: stored by files of older schema versions, derived for the rest.\n`;
    out += `CREATE OR REPLACE VIEW ${quote(t.dataset)} AS SELECT * REPLACE (${replace}) FROM (\n  SELECT ${typedNulls(t).join(', ')} WHERE false\n  UNION ALL BY NAME\n  SELECT * FROM ${files}\n);\n`;
  }
  return out;
}
