/** DuckDB as the independent reader of what the daemon wrote. */
import { DuckDBInstance } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

/** Runs SQL over an in-memory DuckDB and returns JSON-friendly rows (bigints as strings). */
export async function duckdbQuery(sql: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const conn = await instance.connect();
    try {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Row[];
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** `read_parquet` over every file of a dataset, with Hive partition columns. */
export function datasetGlob(dataDir: string, dataset: string): string {
  return `read_parquet('${dataDir}/${dataset}/**/*.parquet', hive_partitioning = true, union_by_name = true)`;
}

/**
 * A traces file's end time in DuckDB SQL: schema version 3 stores none, it is
 * `start_time + duration_ns` (the DDL view does the same, with `coalesce` over older files).
 */
export const DERIVED_END_TIME = 'make_timestamp_ns(epoch_ns(start_time) + duration_ns)';
