/**
 * Old against new, in one process: a flush's sort (`sortBatches`) and encode (`encodeFlush`,
 * sort + Parquet with the dataset's layout) of two source trees (each `git archive`d into its own
 * directory, node_modules linked), on the same batches: the seeded bench traces (64 × 512 spans),
 * logs and metrics. First it checks that both store the same thing — the sorted batches' Arrow
 * IPC bytes are identical for every dataset, and the traces files read back the same values, with the same trace index —, then it times the traces sort and encode in
 * interleaved rounds (CPU time of this process) and prints the best and the median µs per span.
 *
 *   npx tsx bench/pipeline/sort-ab.ts DIR_OLD DIR_NEW [rounds=12]
 */
import { createHash } from 'node:crypto';
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { decodeRequest } from '../../src/otlp/decode.js';
import { convertLogs } from '../../src/pipeline/convert-logs.js';
import { convertMetrics } from '../../src/pipeline/convert-metrics.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { DATASETS } from '../../src/schema/datasets.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { encodePlan } from '../harness/encode-plan.js';
import { logRequests, metricRequests } from '../load/logs-metrics.js';
import { traceRequests } from '../load/traces.js';

type Sort = typeof import('../../src/pipeline/sort.js').sortBatches;
type Encode = typeof import('../../src/pipeline/encode-flush.js').encodeFlush;
interface Tree {
  readonly root: string;
  readonly sort: Sort;
  readonly encode: Encode;
}

const [oldRoot, newRoot, roundsArg] = process.argv.slice(2);
if (oldRoot === undefined || newRoot === undefined) throw new Error('usage: sort-ab.ts DIR_OLD DIR_NEW [rounds]');
const rounds = Number(roundsArg ?? 12);

async function load(root: string): Promise<Tree> {
  // Each tree's own modules: the two builds never share a function, so neither warms the other's JIT.
  const { sortBatches } = (await import(`${root}/src/pipeline/sort.ts`)) as typeof import('../../src/pipeline/sort.js');
  const { encodeFlush } = (await import(`${root}/src/pipeline/encode-flush.ts`)) as typeof import('../../src/pipeline/encode-flush.js');
  return { root, sort: sortBatches, encode: encodeFlush };
}

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = ['http.request.method', 'http.response.status_code', 'url.path', 'server.address'].map(parsePromoted);
const data: Record<'traces' | 'logs' | 'metrics', RecordBatch[]> = { traces: [], logs: [], metrics: [] };
for (const p of traceRequests(42, 64, 512)) for (const g of convertTraces(decodeRequest('traces', 'protobuf', p) as never, partitioner, promoted).groups) data.traces.push(g.batch);
for (const p of logRequests(42, 32, 512)) for (const g of convertLogs(decodeRequest('logs', 'protobuf', p) as never, partitioner, [], 0n).groups) data.logs.push(g.batch);
for (const p of metricRequests(42, 32, 64)) for (const g of convertMetrics(decodeRequest('metrics', 'protobuf', p) as never, partitioner, []).groups) data.metrics.push(g.batch);

const hash = (b: RecordBatch): string => createHash('sha256').update(tableToIPC(new Table([b]), 'stream')).digest('hex');
const trees = [await load(oldRoot), await load(newRoot)];
for (const [name, batches] of Object.entries(data)) {
  const by = DATASETS[name as keyof typeof data].storage.sortBy;
  const [a, b] = trees.map((t) => hash(t.sort(batches, by)));
  const rows = batches.reduce((n, x) => n + x.numRows, 0);
  console.log(`${name}: ${rows} rows in ${batches.length} batches, sorted by ${by.join(', ')}: ${a === b ? 'identical Arrow IPC' : 'DIFFERENT'}`);
  if (a !== b) process.exitCode = 1;
}

const plan = encodePlan('traces');
const spans = data.traces.reduce((n, x) => n + x.numRows, 0);
// An older tree's encodeFlush returns the files, a newer one a promise of them.
const files = await Promise.all(trees.map(async (t) => await t.encode(data.traces, plan)));
const bytes = files.map((f) => f.reduce((n, c) => n + c.body.length, 0));
// What a reader gets back (parquet-wasm's own output bytes vary from call to call — the same
// tree encoding the same rows twice gives different bodies —, so the values are compared).
const readBack = (body: Uint8Array): string => createHash('sha256').update(wasm.readParquet(body).intoIPCStream()).digest('hex');
const digest = (f: (typeof files)[number]): string => JSON.stringify(f.map((c) => [readBack(c.body), c.rows, c.index]));
const same = digest(files[0]!) === digest(files[1]!);
console.log(`traces files: ${same ? 'identical values read back, identical trace index' : 'DIFFERENT'}; bytes per span: old ${(bytes[0]! / spans).toFixed(2)}, new ${(bytes[1]! / spans).toFixed(2)}`);
if (!same) process.exitCode = 1;

/** CPU µs per span of `fn`, awaited: an older tree's encode returns files, a newer one a promise. */
const cpu = async (fn: () => unknown): Promise<number> => {
  const c = process.cpuUsage();
  await fn();
  const u = process.cpuUsage(c);
  return (u.user + u.system) / spans;
};
const times = trees.map(() => ({ sort: [] as number[], 'sort by span_id (runs of one row)': [] as number[], encode: [] as number[] }));
for (let r = 0; r < rounds; r++) {
  // Alternate which tree goes first, so neither always runs on a warmer or cooler machine.
  const order = r % 2 === 0 ? [0, 1] : [1, 0];
  for (const i of order) times[i]!.sort.push(await cpu(() => trees[i]!.sort(data.traces, plan.sortBy)));
  // The worst case for sorting key runs: every key distinct, so every run is one row.
  for (const i of order) times[i]!['sort by span_id (runs of one row)'].push(await cpu(() => trees[i]!.sort(data.traces, ['span_id'])));
  for (const i of order) times[i]!.encode.push(await cpu(() => trees[i]!.encode(data.traces, plan)));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const stage of ['sort', 'sort by span_id (runs of one row)', 'encode'] as const) {
  const line = trees.map((t, i) => `${i === 0 ? 'old' : 'new'} best ${Math.min(...times[i]![stage]).toFixed(2)} median ${median(times[i]![stage]).toFixed(2)}`);
  console.log(`traces ${stage} (µs/span, ${rounds} rounds): ${line.join(' | ')}`);
}
