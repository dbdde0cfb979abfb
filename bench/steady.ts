/**
 * Issue 19's CPU targets on long runs, and what a record costs once the daemon is warm.
 *
 * Records per CPU-second from the first request until the last record is stored depend on how
 * long the run is: a run also pays costs once per process — V8 compiling the hot paths,
 * parquet-wasm's memory, the sort arena and the buffers growing to their working size; the
 * first flush of a fresh daemon takes ~3× as long as the fourth. So each signal runs long
 * (OTLP/HTTP protobuf, 4 clients, default config, every thread's CPU counted until the shutdown
 * flush has stored the last record, as bench/ingest.ts), and the table gives two figures:
 *
 * - the whole run, from the first request;
 * - the steady state: from the end of the warm-up's flushes (`warmFlushes`) to the end of the last one
 *   before shutdown, the rows those flushes stored ÷ the CPU between them. A partition is
 *   detached when it flushes, so at each end the buffers hold only what arrived during that
 *   flush: the window receives about the rows it stores, and pays for all of their flushes.
 *
 * `npx tsx bench/steady-only.ts [--quick]` runs this part alone.
 */
import { benchIngest, type IngestResult } from './ingest.js';
import { logRequests, metricRequests, METRICS_PER_REQUEST } from './load/logs-metrics.js';
import { traceRequests } from './load/traces.js';
import { CPU_TARGETS, LOGS_PER_REQUEST, SERIES_PER_METRIC, SPANS_PER_REQUEST } from './signals.js';
/**
 * Flushes left out of the steady state: the first ones grow memory and wait for V8's compiles
 * (a traces flush of 100,000 rows takes ~2.4 s, then ~1.4, ~1.0 and ~0.7 s): the first third of
 * them, two at least.
 */
const warmFlushes = (n: number): number => Math.max(2, Math.floor(n / 3));

export interface SteadyResult {
  signal: 'traces' | 'logs' | 'metrics';
  run: IngestResult;
  /** Rows and CPU-seconds of the steady-state window, and how many flushes it spans (undefined: too few flushes). */
  window?: { rows: number; cpuSeconds: number; flushes: number; perCpuSecond: number };
  target: number;
}

function steadyWindow(run: IngestResult): SteadyResult['window'] {
  const during = run.flushes.filter((f) => f.reason !== 'shutdown');
  const warm = warmFlushes(during.length);
  if (during.length < warm + 2) return undefined;
  const from = during[warm - 1]!;
  const to = during[during.length - 1]!;
  const inside = during.slice(warm);
  const rows = inside.reduce((n, f) => n + f.rows, 0);
  const cpuSeconds = +(to.cpu - from.cpu).toFixed(2);
  return { rows, cpuSeconds, flushes: inside.length, perCpuSecond: Math.round(rows / cpuSeconds) };
}

export async function benchSteady(quick: boolean, clients: number): Promise<SteadyResult[]> {
  const out: SteadyResult[] = [];
  const run = async (signal: SteadyResult['signal'], path: '/v1/traces' | '/v1/logs' | '/v1/metrics', payloads: readonly Uint8Array[], per: number, requests: number): Promise<void> => {
    console.error(`  ${signal}: ${requests} requests …`);
    const r = await benchIngest('http-protobuf', path, payloads, per, requests, clients);
    const window = steadyWindow(r);
    out.push({ signal, run: r, ...(window ? { window } : {}), target: CPU_TARGETS[signal] });
  };
  // Each payload distinct (ids unique across the run, warm-up included): `requests + 8` of them.
  const traces = quick ? 1000 : 2400;
  await run('traces', '/v1/traces', traceRequests(42, traces + 8, SPANS_PER_REQUEST), SPANS_PER_REQUEST, traces);
  const logs = quick ? 1000 : 2400;
  await run('logs', '/v1/logs', logRequests(7, logs + 8, LOGS_PER_REQUEST), LOGS_PER_REQUEST, logs);
  const metrics = quick ? 750 : 1800;
  await run('metrics', '/v1/metrics', metricRequests(9, metrics + 8, SERIES_PER_METRIC), METRICS_PER_REQUEST * SERIES_PER_METRIC, metrics);
  return out;
}

export function steadyMarkdown(results: readonly SteadyResult[]): string {
  const verdict = (v: number, target: number): string => `**${v.toLocaleString('en')}** (${v >= target ? 'met' : 'missed'})`;
  return `## Long runs and the steady state (issue 19's CPU targets; bench/steady.ts)

OTLP/HTTP protobuf, ${results[0]?.run.clients ?? 0} clients, defaults (a partition flushes every 100,000 rows), CPU of every thread. The whole run counts
from the first request until the last record is stored; the steady state leaves the first third of the flushes out (two at least) and
runs to the end of the last flush before shutdown (the rows its flushes stored ÷ the CPU between them): what a record costs a daemon
that has been running.

| signal | records | whole run: per CPU-second | steady state: flushes, rows, CPU-s | steady state: per CPU-second | target | peak RSS MiB |
|---|---|---|---|---|---|---|
${results
  .map((r) => {
    const w = r.window;
    return `| ${r.signal} | ${r.run.records.toLocaleString('en')} | ${verdict(r.run.recordsPerCpuSecond, r.target)} | ${w ? `${w.flushes}, ${w.rows.toLocaleString('en')}, ${w.cpuSeconds}` : 'too few flushes'} | ${w ? verdict(w.perCpuSecond, r.target) : '—'} | ≥ ${r.target.toLocaleString('en')} | ${r.run.peakRssMb} |`;
  })
  .join('\n')}`;
}
