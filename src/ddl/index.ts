/**
 * `s3-parquet-connector ddl --engine duckdb|athena|trino|spark [--dataset D]`: CREATE
 * statements for the datasets over the configured location (local directory or
 * s3://bucket/prefix/), with the partition columns `[partitioning]` puts in the paths and the
 * column types of the Arrow schemas (promoted attributes included), in each engine's syntax.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { S3ParquetError } from '../errors.js';
import type { Config } from '../config/index.js';
import { DATASET_NAMES, isDatasetName, type DatasetName } from '../schema/datasets.js';
import { renderAthena } from './athena.js';
import type { DdlContext } from './context.js';
import { renderDuckdb } from './duckdb.js';
import { datasetTable, partitionLayout, storageLocation } from './model.js';
import { renderSpark } from './spark.js';
import { renderTrino } from './trino.js';

export const DDL_ENGINES = ['duckdb', 'athena', 'trino', 'spark'] as const;
export type DdlEngine = (typeof DDL_ENGINES)[number];

const RENDER: Readonly<Record<DdlEngine, (ctx: DdlContext) => string>> = {
  duckdb: renderDuckdb,
  athena: renderAthena,
  trino: renderTrino,
  spark: renderSpark,
};

export interface DdlOptions {
  readonly engine: string;
  /** One dataset, or all three. */
  readonly dataset?: string;
  /** Database/schema for Athena, Trino and Spark tables (default "default"). */
  readonly schema?: string;
  /** For DuckDB over a local directory: whether a dataset has files yet. */
  readonly hasFiles?: (dataset: string) => boolean;
}

export function generateDdl(config: Config, options: DdlOptions): string {
  const engine = options.engine.toLowerCase();
  if (!(DDL_ENGINES as readonly string[]).includes(engine)) {
    throw new S3ParquetError('INVALID_ARGUMENT', `unknown engine ${JSON.stringify(options.engine)}; expected one of ${DDL_ENGINES.join(', ')}`);
  }
  let datasets: readonly DatasetName[] = DATASET_NAMES;
  if (options.dataset !== undefined) {
    if (!isDatasetName(options.dataset)) {
      throw new S3ParquetError('INVALID_ARGUMENT', `unknown dataset ${JSON.stringify(options.dataset)}; expected one of ${DATASET_NAMES.join(', ')}`);
    }
    datasets = [options.dataset];
  }
  const schema = options.schema ?? 'default';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new S3ParquetError('INVALID_ARGUMENT', `--schema must be a plain identifier, got ${JSON.stringify(schema)}`);
  const layout = partitionLayout(config);
  return RENDER[engine as DdlEngine]({
    config,
    layout,
    location: storageLocation(config),
    tables: datasets.map((d) => datasetTable(config, d, layout)),
    schema,
    ...(options.hasFiles ? { hasFiles: options.hasFiles } : {}),
  });
}

/** For DuckDB over a local directory: does `<root>/<dataset>/` hold a Parquet file yet? */
export function localFilesCheck(config: Config): ((dataset: string) => boolean) | undefined {
  const location = storageLocation(config);
  if (location.backend !== 'local') return undefined;
  const hasParquet = (dir: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const e of entries) if (e.isFile() && e.name.endsWith('.parquet') && !e.name.includes('.tmp-')) return true;
    return entries.some((e) => e.isDirectory() && !e.name.startsWith('.') && hasParquet(join(dir, e.name)));
  };
  return (dataset) => hasParquet(join(location.root, dataset));
}
