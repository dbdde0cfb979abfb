/**
 * The FileWriter settings a configuration gives (writer properties, row order, encodings, blooms,
 * trace index), shared by the daemon's flushes and compaction, so both write the same files.
 */
import type { Config } from '../config/index.js';
import { INDEX_COLUMNS, type StorageLayout } from '../parquet/contract.js';
import { MAX_ROWS_PER_FILE } from '../parquet/writer.js';
import { SCHEMA_VERSIONS } from './pipeline.js';
import { DATASET_NAMES, DATASETS } from '../schema/datasets.js';
import { VERSION } from '../version.js';
import type { FileWriterOptions } from './file-writer.js';

export function fileWriterSettings(config: Config): Omit<FileWriterOptions, 'store' | 'instanceId' | 'writeLog' | 'now'> {
  return {
    schemaVersions: SCHEMA_VERSIONS,
    writer: `s3-parquet-connector ${VERSION}`,
    parquet: {
      compression: config.parquet.compression,
      rowGroupSize: config.parquet.row_group_size,
      pageSize: config.parquet.page_size,
      dictionaryEnabled: config.parquet.dictionary_enabled,
      statisticsEnabled: config.parquet.statistics_enabled,
      createdBy: `s3-parquet-connector ${VERSION}`,
      ...(config.parquet.compression_level !== undefined ? { compressionLevel: config.parquet.compression_level } : {}),
    },
    // max_rows caps a file's rows too, within the chunk size that keeps wasm memory flat.
    maxRowsPerFile: Math.min(config.buffer.max_rows, MAX_ROWS_PER_FILE),
    layouts: storageLayouts(config.parquet.column_encodings_enabled),
    ...(config.parquet.bloom_filter_enabled ? { bloomColumns: { traces: 'trace_id' } } : {}),
    ...(config.write_log.enabled && config.write_log.trace_index ? { indexColumns: INDEX_COLUMNS } : {}),
  };
}

/** Each dataset's row order, and its column encodings unless `[parquet] column_encodings_enabled = false`. */
function storageLayouts(encodings: boolean): Record<string, StorageLayout> {
  const layouts: Record<string, StorageLayout> = {};
  for (const name of DATASET_NAMES) {
    const storage = DATASETS[name].storage;
    layouts[name] = encodings ? storage : { ...storage, encodings: {} };
  }
  return layouts;
}
