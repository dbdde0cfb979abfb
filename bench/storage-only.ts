/** `npx tsx bench/storage-only.ts`: just the storage part of `npm run bench -- --quick` (same loads). */
import { benchStorage } from './storage.js';
import { logRequests, metricRequests, METRICS_PER_REQUEST } from './load/logs-metrics.js';
import { traceRequests } from './load/traces.js';

for (const r of [
  await benchStorage('traces', traceRequests(42, 64, 512), 512),
  await benchStorage('logs', logRequests(7, 32, 512), 512),
  await benchStorage('metrics', metricRequests(9, 32, 100), 100 * METRICS_PER_REQUEST),
]) {
  console.log(r.signal.padEnd(8), 'parquet-zstd', String(r.bytesPerRecord['parquet-zstd']).padStart(6), 'otlp+zstd', String(r.bytesPerRecord['otlp-protobuf+zstd']).padStart(6), 'ratio', r.parquetZstdVsOtlpZstd);
}
