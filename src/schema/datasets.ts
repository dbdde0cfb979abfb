/** The three datasets: their schema (for a promoted-attribute list), version and event-time column. */
import type { Schema } from 'apache-arrow';
import { LOGS_EVENT_TIME_COLUMN, LOGS_SCHEMA_VERSION, LOGS_STORAGE, logsSchema } from './logs.js';
import { METRICS_EVENT_TIME_COLUMN, METRICS_SCHEMA_VERSION, METRICS_STORAGE, metricsSchema } from './metrics.js';
import { parsePromoted, type PromotedSpec } from './promoted.js';
import type { StorageLayout } from '../parquet/contract.js';
import { TRACES_EVENT_TIME_COLUMN, TRACES_SCHEMA_VERSION, TRACES_STORAGE, tracesSchema } from './traces.js';

export type DatasetName = 'traces' | 'logs' | 'metrics';
export const DATASET_NAMES: readonly DatasetName[] = ['traces', 'logs', 'metrics'];

export interface DatasetSpec {
  readonly name: DatasetName;
  readonly version: number;
  readonly eventTimeColumn: string;
  /** Row order and per-column encodings of its files. */
  readonly storage: StorageLayout;
  schema(promoted: readonly PromotedSpec[]): Schema;
}

export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  traces: { name: 'traces', version: TRACES_SCHEMA_VERSION, eventTimeColumn: TRACES_EVENT_TIME_COLUMN, storage: TRACES_STORAGE, schema: tracesSchema },
  logs: { name: 'logs', version: LOGS_SCHEMA_VERSION, eventTimeColumn: LOGS_EVENT_TIME_COLUMN, storage: LOGS_STORAGE, schema: logsSchema },
  metrics: { name: 'metrics', version: METRICS_SCHEMA_VERSION, eventTimeColumn: METRICS_EVENT_TIME_COLUMN, storage: METRICS_STORAGE, schema: metricsSchema },
};

export function isDatasetName(name: string): name is DatasetName {
  return name === 'traces' || name === 'logs' || name === 'metrics';
}

/** The `[schema.<dataset>] promoted_attributes` lists of a configuration, parsed. */
export function promotedSpecs(config: {
  readonly schema: Readonly<Record<DatasetName, { readonly promoted_attributes: readonly string[] }>>;
}): Record<DatasetName, PromotedSpec[]> {
  return {
    traces: config.schema.traces.promoted_attributes.map(parsePromoted),
    logs: config.schema.logs.promoted_attributes.map(parsePromoted),
    metrics: config.schema.metrics.promoted_attributes.map(parsePromoted),
  };
}
