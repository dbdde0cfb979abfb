/**
 * Micro-benchmark for logs and metrics: protobufjs decode and convert (decoded → Arrow), timed
 * separately, against the one-pass decoders (walk + bytes → Arrow), on the seeded loads of
 * bench/load/logs-metrics.ts. CPU time of this process, not wall clock.
 *
 *   npx tsx bench/pipeline/convert-signals.ts [requests=32]
 */
import { decodeRequest } from '../../src/otlp/decode.js';
import { walkProtobuf } from '../../src/otlp/limits.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/metric-types.js';
import { otlpTypes } from '../../src/otlp/proto-root.js';
import type { ExportLogsServiceRequest } from '../../src/otlp/types.js';
import { convertLogs } from '../../src/pipeline/convert-logs.js';
import { convertLogsWire } from '../../src/pipeline/convert-logs-wire.js';
import { convertMetrics } from '../../src/pipeline/convert-metrics.js';
import { convertMetricsWire } from '../../src/pipeline/convert-metrics-wire.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { LOGS_PER_REQUEST, SERIES_PER_METRIC } from '../signals.js';
import { logRequests, metricRequests, METRICS_PER_REQUEST } from '../load/logs-metrics.js';

const [requests = 32] = process.argv.slice(2).map(Number);
const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const promoted = ['http.request.method', 'http.response.status_code', 'http.route'].map(parsePromoted);
const received = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;

function time(label: string, records: number, rounds: number, fn: () => unknown): void {
  fn(); // warm-up
  const c0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) fn();
  const c = process.cpuUsage(c0);
  const s = (c.user + c.system) / 1e6 / rounds;
  console.log(`${label.padEnd(40)} ${((s / records) * 1e9).toFixed(0).padStart(6)} CPU ns/record  ${Math.round(records / s).toLocaleString('en').padStart(10)} records per CPU-second`);
}

const logs = logRequests(7, requests, LOGS_PER_REQUEST);
const nLogs = requests * LOGS_PER_REQUEST;
const logType = otlpTypes().ExportLogsServiceRequest;
const decodedLogs = logs.map((p) => decodeRequest('logs', 'protobuf', p) as ExportLogsServiceRequest);
time('logs: walk + protobufjs decode', nLogs, 5, () => logs.map((p) => decodeRequest('logs', 'protobuf', p)));
time('logs: convert (decoded → Arrow)', nLogs, 5, () => decodedLogs.map((d) => convertLogs(d, partitioner, promoted, received)));
time('logs: walk only (limits, wire types)', nLogs, 5, () => logs.map((p) => walkProtobuf(logType, p, undefined)));
// The logs decoder checks the limits in its own pass (no walk before it since h-ingest5).
time('logs: one pass (limits checked inside) → Arrow', nLogs, 5, () => logs.map((p) => convertLogsWire(p, partitioner, promoted, received)));

const metrics = metricRequests(9, requests, SERIES_PER_METRIC);
const nPoints = requests * METRICS_PER_REQUEST * SERIES_PER_METRIC;
const metricType = otlpTypes().ExportMetricsServiceRequest;
const decodedMetrics = metrics.map((p) => decodeRequest('metrics', 'protobuf', p) as ExportMetricsServiceRequest);
time('metrics: walk + protobufjs decode', nPoints, 5, () => metrics.map((p) => decodeRequest('metrics', 'protobuf', p)));
time('metrics: convert (decoded → Arrow)', nPoints, 5, () => decodedMetrics.map((d) => convertMetrics(d, partitioner, promoted, received)));
time('metrics: walk only (limits, wire types)', nPoints, 5, () => metrics.map((p) => walkProtobuf(metricType, p, undefined)));
time('metrics: walk + one-pass → Arrow', nPoints, 5, () => metrics.map((p) => (walkProtobuf(metricType, p, undefined), convertMetricsWire(p, partitioner, promoted, received))));
