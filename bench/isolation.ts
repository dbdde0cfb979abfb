/**
 * Query isolation (issue 18): OTLP/HTTP protobuf ingest alone, then with 1 and with 2 broad
 * queries (`select *` as NDJSON, back to back) running, side by side against one daemon
 * process over the lake an earlier run stored; and the broad query's own time as NDJSON and as
 * Arrow against DuckDB on one thread writing the same result as NDJSON.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, startBenchDaemon, type BenchDaemon } from './harness/daemon.js';

export interface IngestPhase {
  broadQueries: number;
  spansPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Broad queries completed while the phase ran. */
  queriesCompleted: number;
  /** Requests refused (any status but 200): must stay 0. */
  refused: number;
}

export interface BroadRead {
  format: 'ndjson' | 'arrow' | 'duckdb-ndjson';
  rows: number;
  ms: number;
  bytes: number;
  /** CPU seconds the daemon (or DuckDB, in this process) spent. */
  cpuSeconds: number;
}

/**
 * Where the broad queries' answers are read during the ingest phases. `child`: each query by a
 * `curl` process of its own (answer to /dev/null), as a user's export runs elsewhere — the
 * load generator keeps its event loop to itself. `in-process`: read by this process's `fetch`,
 * on the generator's own loop (how the bench measured before 2026-11-29 12:30Z): reading
 * ~180 MiB of NDJSON per query then delays the generator's own requests and inflates the
 * latencies it reports.
 */
export type QueryReaders = 'child' | 'in-process';

export interface IsolationResult {
  lakeSpans: number;
  readers: QueryReaders;
  phases: IngestPhase[];
  broad: BroadRead[];
}

async function broadQuery(port: number, format: 'ndjson' | 'arrow'): Promise<{ rows: number; bytes: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'traces', format }) });
  if (res.status !== 200) throw new Error(`broad query: status ${res.status}: ${await res.text()}`);
  let bytes = 0;
  let rows = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (format === 'ndjson') for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) rows++;
  }
  return { rows, bytes };
}

/** A broad NDJSON query read by `curl` in a process of its own, the answer dropped. */
function broadQueryInChild(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--fail', '-o', '/dev/null', '-X', 'POST', '-H', 'content-type: application/json', '--data', JSON.stringify({ dataset: 'traces', format: 'ndjson' }), `http://127.0.0.1:${port}/api/v1/query`], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`broad query (curl): exit code ${code}`))));
  });
}

async function ingestPhase(d: BenchDaemon, payloads: readonly Uint8Array[], perPayload: number, requests: number, clients: number, broadQueries: number, readers: QueryReaders): Promise<IngestPhase> {
  let stop = false;
  let completed = 0;
  const loops = Array.from({ length: broadQueries }, async () => {
    while (!stop) {
      if (readers === 'child') await broadQueryInChild(d.ports.query!);
      else await broadQuery(d.ports.query!, 'ndjson');
      if (!stop) completed++;
    }
  });
  if (broadQueries > 0) await new Promise((r) => setTimeout(r, 1000)); // the queries are under way
  if (process.env.BENCH_LOG_FLUSHES === '1') console.error(`${new Date().toISOString()} phase with ${broadQueries} broad queries: ingest starts`);
  const latencies: number[] = [];
  let refused = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests) {
        const body = payloads[next++ % payloads.length]!;
        const s = performance.now();
        const res = await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
        await res.arrayBuffer();
        if (res.status !== 200) refused++;
        latencies.push(performance.now() - s);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  if (process.env.BENCH_LOG_FLUSHES === '1') console.error(`${new Date().toISOString()} phase with ${broadQueries} broad queries: ingest ends, slowest request ${Math.round(Math.max(...latencies))} ms`);
  stop = true;
  await Promise.all(loops);
  latencies.sort((a, b) => a - b);
  return {
    broadQueries,
    spansPerSecond: Math.round((requests * perPayload) / wall),
    p50Ms: +percentile(latencies, 50).toFixed(1),
    p99Ms: +percentile(latencies, 99).toFixed(1),
    queriesCompleted: completed,
    refused,
  };
}

async function timed(d: BenchDaemon, fn: () => Promise<{ rows: number; bytes: number }>): Promise<{ rows: number; bytes: number; ms: number; cpuSeconds: number }> {
  const cpu0 = await d.cpuSeconds();
  const t = performance.now();
  const r = await fn();
  return { ...r, ms: Math.round(performance.now() - t), cpuSeconds: +((await d.cpuSeconds()) - cpu0).toFixed(2) };
}

async function duckdbNdjson(dataDir: string, workDir: string): Promise<BroadRead> {
  const out = join(workDir, 'duck.ndjson');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  const glob = `read_parquet('${dataDir}/traces/**/*.parquet', hive_partitioning = true, union_by_name = true)`;
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const rows = Number((await conn.runAndReadAll(`COPY (SELECT * FROM ${glob}) TO '${out}' (FORMAT JSON)`)).getRowObjectsJson()[0]?.Count ?? 0);
  const ms = Math.round(performance.now() - t);
  const cpu = process.cpuUsage(cpu0);
  conn.closeSync();
  db.closeSync();
  const bytes = (await stat(out)).size;
  await rm(out);
  return { format: 'duckdb-ndjson', rows, ms, bytes, cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2) };
}

/**
 * `encodeWorkers` is `[parquet] encode_workers` of the daemon under test (0 = flushes encode on
 * the receivers' thread, the default).
 */
export async function benchIsolation(dataDir: string, payloads: readonly Uint8Array[], perPayload: number, requests: number, clients: number, encodeWorkers = 0, readers: QueryReaders = 'child', queryToml = ''): Promise<IsolationResult> {
  const workDir = await mkdtemp(join(tmpdir(), 's3pq-benchiso-'));
  // Generous limits: the bench measures speed, not the limits (Arrow gathers the whole result).
  // Three flushes in every phase, the alone phase included: with the default thresholds the
  // first flush (~88k spans, by bytes) fell into the 1-query phase and none into the alone
  // phase, so the query phases paid a flush the baseline did not (2026-11-29 13:20Z).
  const flushRows = perPayload * Math.max(1, Math.floor(requests / 3));
  const d = await startBenchDaemon(workDir, `[wal]\nfsync = "never"\n[parquet]\nencode_workers = ${encodeWorkers}\n[buffer]\nmax_rows = ${flushRows}`, dataDir, [], `workers = 2\nmax_concurrent_queries = 8\ntimeout_seconds = 600\nmax_memory_mb_per_query = 3072\n${queryToml}`);
  try {
    await broadQuery(d.ports.query!, 'ndjson'); // warm the workers' footer caches
    const ndjson = await timed(d, () => broadQuery(d.ports.query!, 'ndjson'));
    const arrow = await timed(d, () => broadQuery(d.ports.query!, 'arrow'));
    const duck = await duckdbNdjson(dataDir, workDir);
    const broad: BroadRead[] = [{ format: 'ndjson', ...ndjson }, { format: 'arrow', ...arrow, rows: ndjson.rows }, duck];
    const phases: IngestPhase[] = [];
    for (const n of [0, 1, 2]) phases.push(await ingestPhase(d, payloads, perPayload, requests, clients, n, readers));
    return { lakeSpans: ndjson.rows, readers, phases, broad };
  } finally {
    await d.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
