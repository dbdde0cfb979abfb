/** The daemon's traces encode plan for in-process benches: config defaults, the traces layout, the trace index. */
import { defaultConfig } from '../../src/config/index.js';
import { layoutWriterOptions } from '../../src/parquet/writer.js';
import type { EncodePlan } from '../../src/pipeline/encode-flush.js';
import { fileWriterSettings } from '../../src/pipeline/file-writer-settings.js';

export function tracesEncodePlan(): EncodePlan {
  const settings = fileWriterSettings(defaultConfig());
  const layout = settings.layouts!.traces!;
  return {
    head: [['s3pq.dataset', 'traces']],
    writer: 'bench',
    parquet: layoutWriterOptions(settings.parquet, layout),
    sortBy: layout.sortBy,
    maxRows: settings.maxRowsPerFile ?? 100_000,
    bloomColumn: 'trace_id',
    indexColumn: 'trace_id',
  };
}
