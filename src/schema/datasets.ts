/** The three datasets: their schema (for a promoted-attribute list), version and event-time column. */
import type { Schema } from 'apache-arrow';
import { LOGS_EVENT_TIME_COLUMN, LOGS_SCHEMA_VERSION, LOGS_STORAGE, logsSchema } from './logs.js';
import { METRICS_EVENT_TIME_COLUMN, METRICS_SCHEMA_VERSION, METRICS_STORAGE, metricsSchema } from './metrics.js';
import { parsePromoted, parsePromotedResource, type PromotedSpec } from './promoted.js';
import type { StorageLayout } from '../parquet/contract.js';
import { TRACES_DERIVED, TRACES_EVENT_TIME_COLUMN, TRACES_SCHEMA_VERSION, TRACES_STORAGE, tracesSchema } from './traces.js';
import type { DerivedColumn } from './derived.js';

export type DatasetName = 'traces' | 'logs' | 'metrics';
export const DATASET_NAMES: readonly DatasetName[] = ['traces', 'logs', 'metrics'];

export interface DatasetSpec {
  readonly name: DatasetName;
  readonly version: number;
  readonly eventTimeColumn: string;
  /** Row order and per-column encodings of its files. */
  readonly storage: StorageLayout;
  /** The stored columns (what the writer makes). */
  schema(promoted: readonly PromotedSpec[]): Schema;
  /** Columns readers add to the stored ones (derived.ts), in every file version. */
  readonly derived: readonly DerivedColumn[];
}

export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  traces: { name: 'traces', version: TRACES_SCHEMA_VERSION, eventTimeColumn: TRACES_EVENT_TIME_COLUMN, storage: TRACES_STORAGE, schema: tracesSchema, derived: TRACES_DERIVED },
  logs: { name: 'logs', version: LOGS_SCHEMA_VERSION, eventTimeColumn: LOGS_EVENT_TIME_COLUMN, storage: LOGS_STORAGE, schema: logsSchema, derived: [] },
  metrics: { name: 'metrics', version: METRICS_SCHEMA_VERSION, eventTimeColumn: METRICS_EVENT_TIME_COLUMN, storage: METRICS_STORAGE, schema: metricsSchema, derived: [] },
};

export function isDatasetName(name: string): name is DatasetName {
  return name === 'traces' || name === 'logs' || name === 'metrics';
}

/** One dataset's `[schema.<dataset>]` lists; `promoted_resource_attributes` absent means none. */
export interface PromotedLists {
  readonly promoted_attributes: readonly string[];
  readonly promoted_resource_attributes?: readonly string[];
}

/**
 * The `[schema.<dataset>] promoted_attributes` and `promoted_resource_attributes` lists of a
 * configuration, parsed into one list per dataset (the record's first, then the resource's).
 */
export function promotedSpecs(config: { readonly schema: Readonly<Record<DatasetName, PromotedLists>> }): Record<DatasetName, PromotedSpec[]> {
  const of = (l: PromotedLists) => [...l.promoted_attributes.map(parsePromoted), ...(l.promoted_resource_attributes ?? []).map(parsePromotedResource)];
  return { traces: of(config.schema.traces), logs: of(config.schema.logs), metrics: of(config.schema.metrics) };
}
