/**
 * Micro-benchmark: a flush's reordering (`sortBatches`) and Parquet encoding of the seeded trace
 * load, with the dataset's storage layout (src/schema/traces.ts) against the writer's defaults.
 * CPU time (best of N), so a busy machine disturbs it less than wall time.
 *
 *   npx tsx bench/pipeline/sort.ts [requests=64] [spansPerRequest=512] [rounds=8]
 */
import type { RecordBatch } from 'apache-arrow';
import { decodeTraces } from '../../src/otlp/decode.js';
import { encodeParquet, type ParquetWriterOptions } from '../../src/parquet/writer.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { DATASETS } from '../../src/schema/datasets.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { traceRequests } from '../load/traces.js';

const [requests = 64, perRequest = 512, rounds = 8] = process.argv.slice(2).map(Number);
const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const promoted = ['http.request.method', 'http.response.status_code', 'url.path', 'server.address'].map(parsePromoted);
const batches: RecordBatch[] = [];
for (const p of traceRequests(42, requests, perRequest)) for (const g of convertTraces(decodeTraces('protobuf', p), partitioner, promoted).groups) batches.push(g.batch);
const spans = requests * perRequest;

function cpu<T>(label: string, fn: () => T): T {
  let best = Number.POSITIVE_INFINITY;
  let out: T | undefined;
  for (let i = 0; i < rounds; i++) {
    const c = process.cpuUsage();
    out = fn();
    const u = process.cpuUsage(c);
    best = Math.min(best, (u.user + u.system) / 1000);
  }
  console.log(`${label.padEnd(34)} ${best.toFixed(0).padStart(6)} ms CPU  ${((best * 1000) / spans).toFixed(2).padStart(6)} µs/span`);
  return out!;
}

const layout = DATASETS.traces.storage;
const sorted = [cpu(`sort by ${layout.sortBy.join(', ')}`, () => sortBatches(batches, layout.sortBy))];
const base: ParquetWriterOptions = { compression: 'ZSTD', rowGroupSize: 100_000, pageSize: 1 << 20, dictionaryEnabled: true, statisticsEnabled: true };
const plain = cpu('encode, writer defaults', () => encodeParquet(sorted, new Map(), base));
const tuned = cpu('encode, storage layout', () => encodeParquet(sorted, new Map(), { ...base, columnEncodings: layout.encodings }));
console.log(`bytes/span: defaults ${(plain.length / spans).toFixed(1)}, layout ${(tuned.length / spans).toFixed(1)}`);
