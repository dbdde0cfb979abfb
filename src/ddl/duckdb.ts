/**
 * DuckDB: a script of views named after the datasets over `read_parquet` (Hive partitioning,
 * union by name), so `duckdb lake.duckdb -c "$(s3-parquet-connector ddl --engine duckdb)"`
 * creates them. Over S3 it first creates a secret that takes credentials from the AWS chain
 * (environment, profile, instance role); none are printed. A local dataset with no file yet gets
 * an empty view with its columns (DuckDB cannot create a view over a glob that matches nothing).
 */
import type { DdlContext } from './context.js';
import { header } from './context.js';
import { sqlString, type Column, type ColumnType, type PartitionColumn } from './model.js';

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

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
      const cols = [
        ...t.columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${quote(c.name)}`),
        ...t.layout.partitions.map((p) => `CAST(NULL AS ${partitionType(p)}) AS ${quote(p.name)}`),
      ];
      out += `-- No files under ${base}/${t.dataset}/ yet: an empty view with the columns; run ddl again after the first flush.\n`;
      out += `CREATE OR REPLACE VIEW ${quote(t.dataset)} AS SELECT\n  ${cols.join(',\n  ')}\nWHERE false;\n`;
      continue;
    }
    const options = layout.hive
      ? [`hive_partitioning = true`, ...(hiveTypes.length > 0 ? [`hive_types = {${hiveTypes.join(', ')}}`] : []), 'union_by_name = true']
      : ['hive_partitioning = false', 'union_by_name = true'];
    out += `CREATE OR REPLACE VIEW ${quote(t.dataset)} AS SELECT * FROM read_parquet(${sqlString(glob)}, ${options.join(', ')});\n`;
  }
  return out;
}
