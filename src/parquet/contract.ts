/**
 * The file contract: what every Parquet file we write carries beyond its Arrow schema, in one
 * place for everything that writes or reads those files — the pipeline's file writer, the
 * library, the write log (`log rebuild` reads footers), the query engine and compaction.
 *
 * - footer key-value metadata keys (`FOOTER_KEYS`): schema version, event-time bounds, row
 *   count, writer, and the bloom filter of one string column;
 * - the bloom filter's encoding (`bloom.ts`), written into the footer and into the write log's
 *   trace index (`trace-index.ts`);
 * - the trace index (`trace-index.ts`): the same filter, per file, in the file's write-log entry;
 * - the storage layouts (`storage-layout.ts`): row order and column encodings per dataset.
 *
 * The key names are persisted in files already written: never rename one; add a new key.
 */
export { buildBloom, parseBloom, type Bloom } from './bloom.js';
export { buildFileIndex, FileIndex, type FileIndexJson } from './trace-index.js';
export { DOUBLE, INTEGER, NANOS, RANDOM_ID, type ColumnEncoding, type StorageLayout } from './storage-layout.js';

/** Footer key-value metadata keys written into every file. */
export const FOOTER_KEYS = {
  dataset: 's3parquet.dataset',
  schemaVersion: 's3parquet.schema_version',
  minEventTime: 's3parquet.min_event_time_ns',
  maxEventTime: 's3parquet.max_event_time_ns',
  rowCount: 's3parquet.row_count',
  writer: 's3parquet.writer',
  /** The bloom filter (historic key name: it first covered traces' trace_id only). */
  traceIdBloom: 's3parquet.trace_id_bloom',
  /** The string column the bloom filter covers; absent means trace_id. */
  bloomColumn: 's3parquet.bloom_column',
} as const;

/** The column a footer bloom filter covers when `FOOTER_KEYS.bloomColumn` is absent. */
export const DEFAULT_BLOOM_COLUMN = 'trace_id';

/** Per dataset, the column its files' trace index covers (written to the write log, read by lookups). */
export const INDEX_COLUMNS: Readonly<Record<string, string>> = Object.freeze({ traces: 'trace_id' });
