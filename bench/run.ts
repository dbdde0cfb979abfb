/**
 * `npm run bench [-- --quick]`: ingest (HTTP/protobuf and gRPC) against the protobufjs decode
 * floor, storage against what the Collector's S3 exporter stores, and queries against DuckDB,
 * all in one run on this machine. Writes bench/results.json and bench/RESULTS.md.
 */
import { cpus, totalmem } from 'node:os';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRequest } from '../src/otlp/decode.js';
import type { ExportTraceServiceRequest } from '../src/otlp/types.js';
import { bytesToHex } from '../src/otlp/values.js';
import { benchIngest, type IngestResult } from './ingest.js';
import { benchIsolation, type IsolationResult } from './isolation.js';
import { benchQuery } from './query.js';
import { benchLakes, compactionTable, lakeTable, lastLakeCompaction } from './lake.js';
import { benchStorage } from './storage.js';
import { logRequests, metricRequests, METRICS_PER_REQUEST } from './load/logs-metrics.js';
import { benchSteady, steadyMarkdown } from './steady.js';
import { benchStageFloor, stageFloorMarkdown } from './stage-floor.js';
import { benchSignals, signalsMarkdown, SPANS_PER_REQUEST as SPANS } from './signals.js';
import { traceRequests } from './load/traces.js';
import { benchOutage, outageMarkdown } from './outage.js';
import { stageShares, type StageShare } from './harness/stages.js';

const quick = process.argv.includes('--quick');
const TRACE_REQUESTS = quick ? 120 : 600;
const CLIENTS = 4;

function floor(payloads: readonly Uint8Array[], perPayload: number, rounds: number): number {
  for (const p of payloads.slice(0, 8)) decodeRequest('traces', 'protobuf', p);
  const t = performance.now();
  for (let r = 0; r < rounds; r++) for (const p of payloads) decodeRequest('traces', 'protobuf', p);
  return Math.round((payloads.length * perPayload * rounds) / ((performance.now() - t) / 1000));
}

const started = new Date();
const traces = traceRequests(42, 64, SPANS);
console.error('decode floor …');
const floorSpansPerSecond = floor(traces, SPANS, quick ? 2 : 5);
console.error('ingest over HTTP/protobuf …');
// Ingest sends distinct requests only (span ids unique across the run, warm-up included).
const ingestTraces = traceRequests(42, TRACE_REQUESTS + 8, SPANS);
const http = await benchIngest('http-protobuf', '/v1/traces', ingestTraces, SPANS, TRACE_REQUESTS, CLIENTS);
console.error('ingest over gRPC …');
const grpc = await benchIngest('grpc', '/v1/traces', ingestTraces, SPANS, TRACE_REQUESTS, CLIENTS);
// Issue 19: wall-clock throughput by clients (1 and 8, HTTP/protobuf), and where the CPU goes.
console.error('ingest with 1 and 8 clients …');
// Partitions flush during these runs (every 20,000 spans), as a sidecar's do in its steady state:
// with the defaults the quick run's spans would all flush at shutdown, after the clock stops.
const FLUSHING = '[buffer]\nmax_rows = 20000';
const OFF_THREAD = '[parquet]\nencode_workers = 1';
const scaling = (clients: number, toml: string) => benchIngest('http-protobuf', '/v1/traces', ingestTraces, SPANS, TRACE_REQUESTS, clients, [], `${FLUSHING}\n${toml}`);
const byClients = [await scaling(1, ''), await scaling(8, ''), await scaling(8, OFF_THREAD)];
console.error('profiled ingest …');
const profDir = await mkdtemp(join(tmpdir(), 's3pq-bench-prof-'));
const profiled = await benchIngest('http-protobuf', '/v1/traces', ingestTraces, SPANS, TRACE_REQUESTS, CLIENTS, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
const stages = stageShares((await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profDir, f)));
console.error('logs and metrics ingest …');
const signals = await benchSignals(quick, CLIENTS);
console.error('long runs and the steady state …');
const steadyRuns = await benchSteady(quick, CLIENTS);
console.error('the stage floor …');
const stageFloors = await benchStageFloor(quick);
console.error('storage …');
const storage = [
  await benchStorage('traces', traces, SPANS),
  await benchStorage('logs', logRequests(7, quick ? 32 : 64, 512), 512),
  await benchStorage('metrics', metricRequests(9, quick ? 32 : 64, 100), 100 * METRICS_PER_REQUEST),
];
console.error('queries …');
const sample = decodeRequest('traces', 'protobuf', traces[3]!) as ExportTraceServiceRequest;
const traceId = bytesToHex(sample.resourceSpans[0]!.scopeSpans[0]!.spans[100]!.traceId);
const queries = await benchQuery(await mkdtemp(join(tmpdir(), 's3pq-benchq-')), http.dataDir, traceId, quick ? 2 : 5);
console.error('query isolation …');
const isolation = await benchIsolation(http.dataDir, traces, SPANS, quick ? 60 : 200, CLIENTS);
console.error('lakes (local and radosgw) …');
const lakes = await benchLakes(quick ? 2 : 3, !process.argv.includes('--no-s3'));
const lakeCompaction = lastLakeCompaction();
// Issue 20: a backlog accepted while radosgw is stopped, then drained (1 GiB; 256 MiB quick).
console.error('outage backlog and drain …');
const outage = process.argv.includes('--no-s3')
  ? undefined
  : await benchOutage({ mib: quick ? 256 : 1024 }).catch((err: unknown) => (console.error(`outage bench failed: ${String(err)}`), undefined));

const ingestRow = (r: IngestResult) =>
  `| ${r.transport} | ${r.clients} | ${r.records.toLocaleString('en')} | ${r.recordsPerSecond.toLocaleString('en')} | ${(r.recordsPerSecond / floorSpansPerSecond).toFixed(2)}× | ${r.recordsPerCpuSecond.toLocaleString('en')} | ${r.cpuSecondsPerMillion} | ${r.peakRssMb} | ${r.p50Ms} / ${r.p99Ms} | ${r.storedBytesPerRecord} |`;
const results = { date: started.toISOString(), quick, machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, floorSpansPerSecond, ingest: [http, grpc], byClients, stages: { ...stages, profiledRecordsPerCpuSecond: profiled.recordsPerCpuSecond }, signals, steady: steadyRuns, storage, queries, isolation, lakes, lakeCompaction, outage };
await writeFile('bench/results.json', JSON.stringify(results, null, 2) + '\n');
const codecs = Object.keys(storage[0]!.bytesPerRecord);
const md = `# Benchmark results

\`npm run bench${quick ? ' -- --quick' : ''}\` on ${started.toISOString().slice(0, 16)}Z — ${results.machine.cpus} cores (${results.machine.model}), ${results.machine.memoryGiB} GiB, Node ${process.version}.
Every ratio below was measured side by side in this one run.

## Ingest (traces, ${SPANS} spans per request, seeded microservice load)

protobufjs decode alone (the floor): **${floorSpansPerSecond.toLocaleString('en')} spans/s** on one core.

| transport | clients | spans | accepted spans/s | vs floor | spans per CPU-second | CPU s per million | peak RSS MiB | p50 / p99 ms | stored bytes/span |
|---|---|---|---|---|---|---|---|---|---|
${ingestRow(http)}
${ingestRow(grpc)}

Wall-clock throughput by clients (HTTP/protobuf; \`[buffer] max_rows = 20000\`, so partitions flush during the run; issue 19's goal: with encoding off the receiving thread, 8 clients ≥ 1.5× the single-threaded figure on this machine):

| transport | clients | config | spans | accepted spans/s | spans per CPU-second | peak RSS MiB | p50 / p99 ms |
|---|---|---|---|---|---|---|---|
${byClients.map((r) => `| ${r.transport} | ${r.clients} | ${r.config.replace(FLUSHING.replace('\n', ' '), '').trim() || 'defaults'} | ${r.records.toLocaleString('en')} | ${r.recordsPerSecond.toLocaleString('en')} | ${r.recordsPerCpuSecond.toLocaleString('en')} | ${r.peakRssMb} | ${r.p50Ms} / ${r.p99Ms} |`).join('\n')}

Wall clock, 8 clients ÷ 1 client (everything on one thread): **${(byClients[1]!.recordsPerSecond / byClients[0]!.recordsPerSecond).toFixed(2)}×** with encoding on the receiving thread, **${(byClients[2]!.recordsPerSecond / byClients[0]!.recordsPerSecond).toFixed(2)}×** with \`encode_workers = 1\`.

Where the daemon's CPU goes (the HTTP/protobuf run again, ${CLIENTS} clients, the daemon under \`--cpu-prof\` — ${stages.stages.length} stages, busy ${(stages.busyMs / 1000).toFixed(2)} s with start-up; the profiler's own cost makes this run ${profiled.recordsPerCpuSecond.toLocaleString('en')} spans per CPU-second; \`bench/profile-stages.ts\` explains the attribution):

${stageTable(stages.stages)}

The table covers JavaScript threads only. Of the daemon's CPU until the last request was accepted (the unprofiled ${CLIENTS}-client HTTP run), the main thread spent **${threadShare(http, 'main')} %** and the other threads ${threadShare(http, 'other')} % (V8's garbage-collector and compiler helpers, libuv's pool; ${http.cpuUntilAccepted.main} s and ${http.cpuUntilAccepted.other} s).

${signalsMarkdown(signals)}

${steadyMarkdown(steadyRuns)}

${stageFloorMarkdown(stageFloors)}

## Storage (bytes per record)

| signal | records | ${codecs.join(' | ')} | Parquet ZSTD ÷ OTLP+zstd |
|---|---|${codecs.map(() => '---').join('|')}|---|
${storage.map((s) => `| ${s.signal} | ${s.records.toLocaleString('en')} | ${codecs.map((c) => s.bytesPerRecord[c]).join(' | ')} | ${s.parquetZstdVsOtlpZstd} |`).join('\n')}

## Queries (best of ${quick ? 2 : 5}, over the ${http.records.toLocaleString('en')} spans the HTTP run stored)

| query | rows | query port ms | DuckDB ms | port ÷ DuckDB |
|---|---|---|---|---|
${queries.map((q) => `| ${q.name} | ${q.rows} | ${q.oursMs} | ${q.duckdbMs} | ${q.ratio} |`).join('\n')}

${isolationMarkdown(isolation)}

## Lakes (bench/lake.ts): lookups with no time range, and filters, against DuckDB

Written by the daemon from the seeded generator; lookups are the mean over 5 ids of the best of
${quick ? 2 : 3}; bytes and requests per lookup come from the lookup's stats (ranged GETs of Parquet files;
LIST counts the write log's). DuckDB reads the local copy of the same files.

${lakeTable(lakes)}
${lakeCompaction ? `## Compaction of the 500-file lake (docs/compaction.md)

The lake above compacted in place (defaults: 256 MiB target, 100,000 rows a file); the
"compacted" rows of the lakes table are the same queries after it.

${compactionTable(lakeCompaction)}` : ''}
${outage ? `${outageMarkdown(outage)}\n` : ''}`;
await writeFile('bench/RESULTS.md', md + (await notes()));
console.log(md);

export function isolationMarkdown(r: IsolationResult): string {
  const alone = r.phases[0]!;
  const duck = r.broad.find((b) => b.format === 'duckdb-ndjson')!;
  const nd = r.broad.find((b) => b.format === 'ndjson')!;
  return `## Query isolation (OTLP/HTTP protobuf ingest, ${CLIENTS} clients, while broad queries run; lake of ${r.lakeSpans.toLocaleString('en')} spans)

Broad query = \`POST /api/v1/query {"dataset":"traces","format":"ndjson"}\` (every column), back to back, read to the end.

| broad queries running | spans/s | vs alone | p50 / p99 ms | p99 vs alone | broad queries completed | refused requests |
|---|---|---|---|---|---|---|
${r.phases.map((p) => `| ${p.broadQueries} | ${p.spansPerSecond.toLocaleString('en')} | ${(p.spansPerSecond / alone.spansPerSecond).toFixed(2)}× | ${p.p50Ms} / ${p.p99Ms} | ${(p.p99Ms / alone.p99Ms).toFixed(2)}× | ${p.queriesCompleted} | ${p.refused} |`).join('\n')}

| broad \`select *\` | rows | ms | MiB | CPU s | vs DuckDB (1 thread) NDJSON |
|---|---|---|---|---|---|
${r.broad.map((b) => `| ${b.format} | ${b.rows.toLocaleString('en')} | ${b.ms} | ${(b.bytes / 2 ** 20).toFixed(1)} | ${b.cpuSeconds} | ${(duck.ms / b.ms).toFixed(2)}× speed |`).join('\n')}

Arrow vs NDJSON: ${(nd.ms / r.broad.find((b) => b.format === 'arrow')!.ms).toFixed(2)}× the speed.`;
}

function threadShare(r: IngestResult, which: 'main' | 'other'): string {
  const { main, other } = r.cpuUntilAccepted;
  return ((100 * r.cpuUntilAccepted[which]) / (main + other)).toFixed(0);
}

/** Stages of the ingest itself: module loading happens at start-up, before the measured window. */
function stageTable(stages: readonly StageShare[]): string {
  const work = stages.filter((s) => s.stage !== 'module loading');
  const total = work.reduce((n, s) => n + s.ms, 0);
  const loading = stages.find((s) => s.stage === 'module loading')?.ms ?? 0;
  return `| stage | ms | % of busy (start-up's ${loading} ms of module loading left out) |\n|---|---|---|\n${work.map((s) => `| ${s.stage} | ${s.ms} | ${((100 * s.ms) / total).toFixed(1)} |`).join('\n')}`;
}

async function notes(): Promise<string> {
  try {
    const { readFile } = await import('node:fs/promises');
    return '\n' + (await readFile('bench/NOTES.md', 'utf8'));
  } catch {
    return '';
  }
}
