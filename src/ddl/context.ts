/** What each engine's renderer is given. */
import type { Config } from '../config/index.js';
import { VERSION } from '../version.js';
import type { DatasetTable, Layout, Location } from './model.js';

export interface DdlContext {
  readonly config: Config;
  readonly tables: readonly DatasetTable[];
  readonly layout: Layout;
  readonly location: Location;
  /** Database/schema the tables are created in (Athena, Trino, Spark). */
  readonly schema: string;
  /** Whether a dataset has any file yet (DuckDB over a local directory needs at least one). */
  readonly hasFiles?: (dataset: string) => boolean;
}

/** The comment block every script starts with. */
export function header(engine: string, ctx: DdlContext, lines: readonly string[] = []): string {
  const where = ctx.location.backend === 'local' ? ctx.location.root : `s3://${ctx.location.root}/`;
  const out = [
    `-- ${engine} DDL for the s3-parquet-connector ${VERSION} datasets (${ctx.tables.map((t) => t.dataset).join(', ')})`,
    `-- over ${where}, partitioned as "${ctx.config.partitioning.by_service ? 'service_name=<svc>/' : ''}${ctx.config.partitioning.format}".`,
    ...lines.map((l) => `-- ${l}`),
  ];
  if (ctx.config.partitioning.by_service) {
    // The path holds a shortened service name when it is long (src/partitioning/bounds.ts).
    out.push(
      "-- service_name values over 64 UTF-8 bytes are shortened in paths to their first 32 characters || '~' || the first 16 hex digits of md5(value); see docs/security.md.",
    );
  }
  if (ctx.location.clientSideEncrypted) {
    out.push('-- WARNING: [s3.encryption] type = "client": the objects are encrypted by the connector and no other engine can read them.');
  }
  for (const t of ctx.tables) {
    if (t.shadowed.length > 0) out.push(`-- ${t.dataset}: column(s) ${t.shadowed.join(', ')} come from the partition path (same name as a partition level).`);
  }
  return out.join('\n') + '\n';
}

/** The partition-level names, for messages. */
export function partitionNames(layout: Layout): string {
  return layout.partitions.map((p) => p.name).join(', ') || '(none)';
}
