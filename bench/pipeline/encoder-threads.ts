/**
 * A flush's sort and encode on the calling thread against an encode worker, in one process: the
 * same seeded bench trace flushes go through `createFlushEncoder(0)` (in-thread) or
 * `createFlushEncoder(1)` (one worker, the IPC hand-off included), and the process's CPU per
 * flush is printed (every thread: the worker's too). Run each mode in its own process, a few times
 * interleaved; the first flushes carry the thread's cold code and fresh memory.
 *
 *   npx tsx bench/pipeline/encoder-threads.ts thread|pool [flushes=12] [rowsPerFlush=20000]
 */
import type { RecordBatch } from 'apache-arrow';
import { defaultConfig } from '../../src/config/index.js';
import { convertTracesWire } from '../../src/pipeline/convert-traces-wire.js';
import { createFlushEncoder } from '../../src/pipeline/encode-pool.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { promotedSpecs } from '../../src/schema/datasets.js';
import { cpuMsAsync } from '../harness/cpu-time.js';
import { encodePlan } from '../harness/encode-plan.js';
import { traceRequests } from '../load/traces.js';

const [mode = 'thread', flushesArg = '12', rowsArg = '20000'] = process.argv.slice(2);
const flushes = Number(flushesArg);
const rows = Number(rowsArg);
if (mode !== 'thread' && mode !== 'pool') throw new Error('usage: encoder-threads.ts thread|pool [flushes] [rowsPerFlush]');
const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = promotedSpecs(defaultConfig()).traces;
const plan = encodePlan('traces');
// Every flush its own seed: span and trace ids never repeat across flushes.
const data: RecordBatch[][] = [];
for (let f = 0; f < flushes; f++) {
  const batches: RecordBatch[] = [];
  for (const p of traceRequests(1000 + f, Math.ceil(rows / 512), 512)) batches.push(...convertTracesWire(p, partitioner, promoted, 1n).groups.map((g) => g.batch));
  data.push(batches);
}
const encoder = createFlushEncoder(mode === 'pool' ? 1 : 0);
await encoder.warm();
const perFlush: number[] = [];
for (const batches of data) {
  perFlush.push(Math.round(await cpuMsAsync(() => encoder.encode(batches, plan))));
}
await encoder.close();
const later = perFlush.slice(perFlush.length >> 1).reduce((a, b) => a + b, 0);
console.log(`${mode}: CPU ms per flush ${perFlush.join(' ')}; later half ${later} ms`);
