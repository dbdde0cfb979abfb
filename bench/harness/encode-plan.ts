/**
 * A dataset's encode plan as the daemon's flushes use it (`datasetEncodePlan` under the config
 * defaults' `fileWriterSettings`), for in-process benches; the footer's head names the dataset.
 */
import { defaultConfig } from '../../src/config/index.js';
import { FOOTER_KEYS } from '../../src/parquet/contract.js';
import type { EncodePlan } from '../../src/pipeline/encode-flush.js';
import { datasetEncodePlan } from '../../src/pipeline/file-writer.js';
import { fileWriterSettings } from '../../src/pipeline/file-writer-settings.js';

export function encodePlan(dataset: 'traces' | 'logs' | 'metrics'): EncodePlan {
  return datasetEncodePlan(fileWriterSettings(defaultConfig()), dataset, [[FOOTER_KEYS.dataset, dataset]]);
}
