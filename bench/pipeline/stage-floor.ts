/**
 * What a record costs at best, stage by stage, against issue 19's CPU targets: the daemon's own
 * functions on the bench loads, in one warm process, with no HTTP, no write-ahead log, no
 * partition buffers and no other requests competing.
 *
 * Per signal, one flush of `records` records (the default is the daemon's flush, 100,000 rows),
 * `rounds` times: the one-pass decoder turns every request into batches (decode + column appends,
 * `convert…Wire`), then the flush is sorted alone (`orderedChunks` in the sort arena), then sorted
 * and encoded as the daemon encodes on its event loop (`encodeFlush`: Parquet through
 * parquet-wasm, the dataset's layout, bloom filter and trace index); the batches' slabs go back to
 * the pool afterwards, as the partition buffers give them back. CPU is the process's (every
 * thread: V8's compiler and GC helpers count), the best round is kept, and the first round
 * (cold code, fresh memory) is printed beside it.
 *
 * The sum of decode and flush is a floor for the daemon in steady state: whatever it pays besides
 * (HTTP, the log, buffers, garbage of other requests) only adds to it. A floor above 1 ÷ target
 * means the target cannot be met without making these stages themselves faster.
 *
 *   npx tsx bench/pipeline/stage-floor.ts [records=100000] [rounds=5] [traces|logs|metrics …] [--json]
 *
 * `npm run bench` runs it in a process of its own (bench/stage-floor.ts), so no code of the
 * daemon is warm when it starts and the first round is a cold start.
 */
import type { RecordBatch } from 'apache-arrow';
import { defaultConfig } from '../../src/config/index.js';
import { convertLogsWire } from '../../src/pipeline/convert-logs-wire.js';
import { convertMetricsWire } from '../../src/pipeline/convert-metrics-wire.js';
import { convertTracesWire } from '../../src/pipeline/convert-traces-wire.js';
import type { ConvertedRequest } from '../../src/pipeline/converted.js';
import { encodeFlush, orderedChunks } from '../../src/pipeline/encode-flush.js';
import { Partitioner, partitioningOptions } from '../../src/pipeline/partitioner.js';
import { withSortArena } from '../../src/pipeline/sort-arena.js';
import { releaseBatchMemory } from '../../src/schema/batch-memory.js';
import { promotedSpecs } from '../../src/schema/datasets.js';
import { cpuMs, cpuMsAsync } from '../harness/cpu-time.js';
import { encodePlan } from '../harness/encode-plan.js';
import { logRequests, metricRequests, METRICS_PER_REQUEST } from '../load/logs-metrics.js';
import { traceRequests } from '../load/traces.js';
import { LOGS_PER_REQUEST, SERIES_PER_METRIC, SPANS_PER_REQUEST } from '../signals.js';
import { stageFloorMarkdown, type StageFloor } from '../stage-floor.js';

type Signal = 'traces' | 'logs' | 'metrics';
const args = process.argv.slice(2);
const numbers = args.filter((a) => /^\d+$/.test(a)).map(Number);
const records = numbers[0] ?? 100_000;
const rounds = Math.max(2, numbers[1] ?? 5);
const chosen = args.filter((a): a is Signal => a === 'traces' || a === 'logs' || a === 'metrics');
const signals: readonly Signal[] = chosen.length > 0 ? chosen : ['traces', 'logs', 'metrics'];

const config = defaultConfig();
const promoted = promotedSpecs(config);
// The daemon's partitioner with the default settings, the event-time window off (the loads are dated 2024).
const partitioner = new Partitioner(partitioningOptions({ ...config.partitioning, max_past_hours: 0, max_future_minutes: 0 }));
const received = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;

/** Each signal's requests (about `records` records, ids unique) and its one-pass decoder. */
function load(signal: Signal): { perRequest: number; requests: Uint8Array[]; convert: (body: Uint8Array) => ConvertedRequest } {
  if (signal === 'traces') {
    const n = Math.ceil(records / SPANS_PER_REQUEST);
    return { perRequest: SPANS_PER_REQUEST, requests: traceRequests(42, n, SPANS_PER_REQUEST), convert: (b) => convertTracesWire(b, partitioner, promoted.traces, received) };
  }
  if (signal === 'logs') {
    const n = Math.ceil(records / LOGS_PER_REQUEST);
    return { perRequest: LOGS_PER_REQUEST, requests: logRequests(7, n, LOGS_PER_REQUEST), convert: (b) => convertLogsWire(b, partitioner, promoted.logs, received) };
  }
  const per = METRICS_PER_REQUEST * SERIES_PER_METRIC;
  const n = Math.ceil(records / per);
  return { perRequest: per, requests: metricRequests(9, n, SERIES_PER_METRIC), convert: (b) => convertMetricsWire(b, partitioner, promoted.metrics, received) };
}

interface Round {
  decode: number;
  sort: number;
  flush: number;
}

const results: StageFloor[] = [];
for (const signal of signals) {
  const { perRequest, requests, convert } = load(signal);
  const plan = encodePlan(signal);
  const rows = requests.length * perRequest;
  const runs: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    let converted: ConvertedRequest[] = [];
    const decode = cpuMs(() => {
      converted = requests.map(convert);
    });
    const batches: RecordBatch[] = converted.flatMap((c) => c.groups.map((g) => g.batch));
    const stored = batches.reduce((n, b) => n + b.numRows, 0);
    if (stored !== rows) throw new Error(`${signal}: ${stored} rows converted, ${rows} expected (a record was rejected)`);
    const sort = cpuMs(() => withSortArena(() => orderedChunks(batches, plan)));
    let files = 0;
    const flush = await cpuMsAsync(async () => {
      files = (await encodeFlush(batches, plan)).length;
    });
    if (files === 0) throw new Error(`${signal}: the flush wrote no file`);
    // As the partition buffers do once a flush is stored: the slabs go back for the next requests.
    for (const c of converted) for (const g of c.groups) if (g.memory !== undefined) releaseBatchMemory(g.memory);
    runs.push({ decode: (decode * 1000) / rows, sort: (sort * 1000) / rows, flush: (flush * 1000) / rows });
  }
  const bestOf = (k: keyof Round): number => Math.min(...runs.map((x) => x[k]));
  const first = runs[0]!;
  results.push({
    signal,
    records: rows,
    rounds,
    best: { decode: bestOf('decode'), sort: bestOf('sort'), flush: bestOf('flush'), total: Math.min(...runs.map((x) => x.decode + x.flush)) },
    first: { decode: first.decode, sort: first.sort, flush: first.flush, total: first.decode + first.flush },
  });
}
console.log(process.argv.includes('--json') ? JSON.stringify(results) : stageFloorMarkdown(results));
