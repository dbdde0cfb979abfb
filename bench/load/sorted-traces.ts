/**
 * The bench's realistic trace load as one flush sees it: `traceRequests(42, 64, 512)` decoded,
 * converted with the daemon's default promoted columns into one day partition, and sorted by the
 * traces storage layout. The writer benches (bench/writer/, bench/storage-layouts.ts) encode it.
 */
import type { RecordBatch } from 'apache-arrow';
import { decodeRequest } from '../../src/otlp/decode.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { defaultConfig } from '../../src/config/index.js';
import { DATASETS, promotedSpecs } from '../../src/schema/datasets.js';
import { traceRequests } from './traces.js';

export const SORTED_SPANS_PER_REQUEST = 512;

export interface SortedTraces {
  /** The OTLP protobuf requests it was made from (64 × 512 spans). */
  readonly payloads: Uint8Array[];
  readonly spans: number;
  /** Every span in one batch, in the traces layout's order. */
  readonly sorted: RecordBatch;
}

export function sortedBenchTraces(): SortedTraces {
  const payloads = traceRequests(42, 64, SORTED_SPANS_PER_REQUEST);
  const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
  // The daemon's defaults: the promoted attributes and (schema version 2) the dedicated resource columns.
  const promoted = promotedSpecs(defaultConfig()).traces;
  const batches: RecordBatch[] = [];
  for (const p of payloads) for (const g of convertTraces(decodeRequest('traces', 'protobuf', p) as never, partitioner, promoted).groups) batches.push(g.batch);
  return { payloads, spans: payloads.length * SORTED_SPANS_PER_REQUEST, sorted: sortBatches(batches, DATASETS.traces.storage.sortBy) };
}
