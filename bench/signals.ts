/**
 * Logs and metrics ingest: records (data points) per CPU-second of the daemon process over
 * OTLP/HTTP protobuf, beside the protobufjs decode-only floor on the same requests. Used by
 * `npm run bench`; `npx tsx bench/signals-only.ts` runs this part alone.
 */
import { decodeRequest, type Signal } from '../src/otlp/decode.js';
import { benchIngest, type IngestResult } from './ingest.js';
import { logRequests, metricRequests, METRICS_PER_REQUEST } from './load/logs-metrics.js';

/** The bench loads' request sizes: spans and log records per request, series per metric. */
export const SPANS_PER_REQUEST = 512;
export const LOGS_PER_REQUEST = 512;
export const SERIES_PER_METRIC = 100;

/** Issue 19's targets: records (spans, data points) per CPU-second of the whole daemon. */
export const CPU_TARGETS = { traces: 60_000, logs: 60_000, metrics: 120_000 } as const;

export interface SignalResult {
  signal: 'logs' | 'metrics';
  /** protobufjs decode alone, records per second on one core. */
  floorRecordsPerSecond: number;
  ingest: IngestResult;
}

function decodeFloor(signal: Signal, payloads: readonly Uint8Array[], perPayload: number, rounds: number): number {
  for (const p of payloads.slice(0, 8)) decodeRequest(signal, 'protobuf', p);
  const t = performance.now();
  for (let r = 0; r < rounds; r++) for (const p of payloads) decodeRequest(signal, 'protobuf', p);
  return Math.round((payloads.length * perPayload * rounds) / ((performance.now() - t) / 1000));
}

export async function benchSignals(quick: boolean, clients: number): Promise<SignalResult[]> {
  const logs = logRequests(7, 64, LOGS_PER_REQUEST);
  const metrics = metricRequests(9, 64, SERIES_PER_METRIC);
  const perMetricRequest = METRICS_PER_REQUEST * SERIES_PER_METRIC;
  const out: SignalResult[] = [];
  out.push({
    signal: 'logs',
    floorRecordsPerSecond: decodeFloor('logs', logs, LOGS_PER_REQUEST, quick ? 2 : 5),
    ingest: await benchIngest('http-protobuf', '/v1/logs', logs, LOGS_PER_REQUEST, quick ? 120 : 600, clients),
  });
  out.push({
    signal: 'metrics',
    floorRecordsPerSecond: decodeFloor('metrics', metrics, perMetricRequest, quick ? 2 : 5),
    ingest: await benchIngest('http-protobuf', '/v1/metrics', metrics, perMetricRequest, quick ? 90 : 450, clients),
  });
  return out;
}

export function signalsMarkdown(results: readonly SignalResult[]): string {
  return `## Ingest (logs and metrics, OTLP/HTTP protobuf, seeded loads of bench/load/logs-metrics.ts)

Logs: ${LOGS_PER_REQUEST} records per request. Metrics: ${METRICS_PER_REQUEST * SERIES_PER_METRIC} data points per request (sums, gauges,
histograms, exponential histograms, summaries; ${SERIES_PER_METRIC} series each). The floor is protobufjs decode alone on one core.

| signal | clients | records | decode floor /s | accepted /s | records per CPU-second | target | CPU s per million | peak RSS MiB | p50 / p99 ms | stored bytes/record |
|---|---|---|---|---|---|---|---|---|---|---|
${results
  .map((s) => {
    const r = s.ingest;
    return `| ${s.signal} | ${r.clients} | ${r.records.toLocaleString('en')} | ${s.floorRecordsPerSecond.toLocaleString('en')} | ${r.recordsPerSecond.toLocaleString('en')} | ${r.recordsPerCpuSecond.toLocaleString('en')} | ≥ ${CPU_TARGETS[s.signal].toLocaleString('en')} (${r.recordsPerCpuSecond >= CPU_TARGETS[s.signal] ? 'met' : 'missed'}) | ${r.cpuSecondsPerMillion} | ${r.peakRssMb} | ${r.p50Ms} / ${r.p99Ms} | ${r.storedBytesPerRecord} |`;
  })
  .join('\n')}`;
}
