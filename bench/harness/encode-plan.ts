/**
 * A dataset's encode plan as the daemon's flushes use it, for in-process benches: config
 * defaults, the dataset's storage layout, its bloom filter and trace index (the settings
 * `FileWriter` plans from, src/pipeline/file-writer-settings.ts).
 */
import { defaultConfig } from '../../src/config/index.js';
import { layoutWriterOptions } from '../../src/parquet/writer.js';
import type { EncodePlan } from '../../src/pipeline/encode-flush.js';
import { fileWriterSettings } from '../../src/pipeline/file-writer-settings.js';

export function encodePlan(dataset: 'traces' | 'logs' | 'metrics'): EncodePlan {
  const settings = fileWriterSettings(defaultConfig());
  const layout = settings.layouts![dataset]!;
  const bloomColumn = settings.bloomColumns?.[dataset];
  const indexColumn = settings.indexColumns?.[dataset];
  return {
    head: [['s3pq.dataset', dataset]],
    writer: 'bench',
    parquet: layoutWriterOptions(settings.parquet, layout),
    sortBy: layout.sortBy,
    maxRows: settings.maxRowsPerFile ?? 100_000,
    ...(bloomColumn ? { bloomColumn } : {}),
    ...(indexColumn ? { indexColumn } : {}),
  };
}
