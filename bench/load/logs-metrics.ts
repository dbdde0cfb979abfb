/**
 * Seeded log and metric load, encoded as OTLP protobuf requests: templated log messages with
 * trace context across services, and counters, histograms and gauges over many series.
 */
import { otlpTypes } from '../../src/otlp/proto-root.js';
import { rng } from './traces.js';

const SERVICES = ['frontend', 'checkout', 'cart', 'payment', 'shipping', 'email', 'recommendation', 'ad'];
const TEMPLATES = [
  'GET {path} completed in {ms} ms',
  'user {user} added item {item} to cart',
  'payment authorised for order {order}',
  'cache miss for key product:{item}',
  'retrying upstream call to {svc} (attempt {n})',
  'failed to reach {svc}: connection reset by peer',
];
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const int = (key: string, v: number) => ({ key, value: { intValue: v } });

function hex(r: () => number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Math.floor(r() * 256);
  return b;
}

export function logRequests(seed: number, count: number, perRequest: number, baseMs = Date.UTC(2024, 0, 1)): Uint8Array[] {
  const r = rng(seed);
  const type = otlpTypes().ExportLogsServiceRequest;
  const out: Uint8Array[] = [];
  for (let q = 0; q < count; q++) {
    const service = SERVICES[q % SERVICES.length]!;
    const logRecords = Array.from({ length: perRequest }, (_, i) => {
      const t = BigInt(baseMs + Math.floor(r() * 3_600_000)) * 1_000_000n + BigInt(i);
      const tpl = TEMPLATES[Math.floor(r() * TEMPLATES.length)]!;
      const error = tpl.startsWith('failed');
      const body = tpl
        .replace('{path}', `/api/products/${Math.floor(r() * 500)}`)
        .replace('{ms}', String(Math.floor(r() * 900)))
        .replace('{user}', `u${Math.floor(r() * 10_000)}`)
        .replace('{item}', String(Math.floor(r() * 2000)))
        .replace('{order}', hex(r, 6).toString('hex'))
        .replace('{svc}', SERVICES[Math.floor(r() * SERVICES.length)]!)
        .replace('{n}', String(1 + Math.floor(r() * 3)));
      return {
        timeUnixNano: t.toString(),
        observedTimeUnixNano: (t + 1000n).toString(),
        severityNumber: error ? 17 : 9,
        severityText: error ? 'ERROR' : 'INFO',
        body: { stringValue: body },
        attributes: [str('logger.name', `${service}.handler`), str('thread.name', `worker-${i % 8}`), int('code.lineno', 100 + (i % 50))],
        traceId: hex(r, 16),
        spanId: hex(r, 8),
        flags: 1,
      };
    });
    const req = {
      resourceLogs: [
        {
          resource: { attributes: [str('service.name', service), str('host.name', `node-${q % 4}`), str('k8s.namespace.name', 'shop'), str('k8s.pod.name', `${service}-7d9f-${q % 3}`)] },
          scopeLogs: [{ scope: { name: 'pino', version: '9.0.0' }, logRecords }],
        },
      ],
    };
    out.push(type.encode(type.fromObject(req)).finish());
  }
  return out;
}

/** Each request: one batch of points per metric for many series (routes × status × pods). */
export function metricRequests(seed: number, count: number, seriesPerMetric: number, baseMs = Date.UTC(2024, 0, 1)): Uint8Array[] {
  const r = rng(seed);
  const type = otlpTypes().ExportMetricsServiceRequest;
  const out: Uint8Array[] = [];
  const bounds = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];
  for (let q = 0; q < count; q++) {
    const service = SERVICES[q % SERVICES.length]!;
    const time = (BigInt(baseMs + q * 10_000) * 1_000_000n).toString();
    const start = (BigInt(baseMs) * 1_000_000n).toString();
    const series = (i: number) => [str('http.route', `/api/r${i % 20}`), int('http.response.status_code', [200, 404, 500][i % 3]!), str('k8s.pod.name', `${service}-${i % 5}`)];
    const metrics = [
      { name: 'http.server.request.count', unit: '{request}', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: Array.from({ length: seriesPerMetric }, (_, i) => ({ startTimeUnixNano: start, timeUnixNano: time, asInt: 1000 * q + Math.floor(r() * 1000), attributes: series(i) })) } },
      { name: 'process.memory.usage', unit: 'By', gauge: { dataPoints: Array.from({ length: seriesPerMetric }, (_, i) => ({ timeUnixNano: time, asDouble: 1e8 + r() * 1e7, attributes: series(i) })) } },
      {
        name: 'http.server.request.duration',
        unit: 'ms',
        histogram: {
          aggregationTemporality: 2,
          dataPoints: Array.from({ length: seriesPerMetric }, (_, i) => {
            const counts = bounds.map(() => Math.floor(r() * 50)).concat([Math.floor(r() * 5)]);
            const total = counts.reduce((a, b) => a + b, 0);
            return { startTimeUnixNano: start, timeUnixNano: time, count: total, sum: total * 120.5, min: 1.2, max: 4800, bucketCounts: counts, explicitBounds: bounds, attributes: series(i) };
          }),
        },
      },
    ];
    const req = { resourceMetrics: [{ resource: { attributes: [str('service.name', service), str('host.name', `node-${q % 4}`)] }, scopeMetrics: [{ scope: { name: 'app' }, metrics }] }] };
    out.push(type.encode(type.fromObject(req)).finish());
  }
  return out;
}
