/**
 * Seeded log and metric loads, encoded as OTLP protobuf requests. Same seed, same bytes.
 *
 * Logs: 8 services with a semantic-convention resource (service, k8s, host, SDK), templated
 * bodies, severities from DEBUG to ERROR, trace context on the ~60 % of records written inside
 * a span, code and thread attributes, an exception on errors.
 * Metrics: per service, the instruments an instrumented HTTP service exports: a monotonic sum,
 * an up-down sum, gauges, an explicit-bucket histogram, an exponential histogram and a summary,
 * each over many series (routes × status × pods).
 */
import { otlpTypes } from '../../src/otlp/proto-root.js';
import { rng } from './traces.js';

const SERVICES = ['frontend', 'checkout', 'cart', 'payment', 'shipping', 'email', 'recommendation', 'ad'];
const LANGUAGES = ['nodejs', 'go', 'java', 'python'];
const TEMPLATES: readonly [severity: number, text: string, body: string][] = [
  [5, 'DEBUG', 'cache lookup for key product:{item}'],
  [9, 'INFO', 'GET {path} completed in {ms} ms'],
  [9, 'INFO', 'user {user} added item {item} to cart'],
  [9, 'INFO', 'payment authorised for order {order}'],
  [9, 'INFO', 'cache miss for key product:{item}'],
  [13, 'WARN', 'retrying upstream call to {svc} (attempt {n})'],
  [13, 'WARN', 'slow query on orders took {ms} ms'],
  [17, 'ERROR', 'failed to reach {svc}: connection reset by peer'],
];
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const int = (key: string, v: number) => ({ key, value: { intValue: v } });

function bytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** The resource attributes of a service's pod, as an SDK with resource detectors sends them. */
function resource(service: string, q: number) {
  const lang = LANGUAGES[SERVICES.indexOf(service) % LANGUAGES.length]!;
  return {
    attributes: [
      str('service.name', service),
      str('service.namespace', 'shop'),
      str('service.version', '1.4.2'),
      str('service.instance.id', `${service}-7d9f-${q % 3}`),
      str('deployment.environment.name', 'production'),
      str('host.name', `node-${q % 4}`),
      str('k8s.cluster.name', 'eu-west-1-prod'),
      str('k8s.namespace.name', 'shop'),
      str('k8s.pod.name', `${service}-7d9f-${q % 3}`),
      str('k8s.deployment.name', service),
      str('telemetry.sdk.name', 'opentelemetry'),
      str('telemetry.sdk.language', lang),
      str('telemetry.sdk.version', '1.26.0'),
    ],
  };
}

/** `n` exemplars as an SDK records them: a measurement (a double or an int) with its span's ids. */
function manyExemplars(r: () => number, time: string, n: number) {
  return Array.from({ length: n }, (_, k) =>
    k % 2 === 0
      ? { timeUnixNano: time, asDouble: r() * 1000, traceId: bytes(r, 16), spanId: bytes(r, 8), filteredAttributes: [str('user.id', `u${Math.floor(r() * 100)}`)] }
      : { timeUnixNano: time, asInt: Math.floor(r() * 1000), traceId: bytes(r, 16), spanId: bytes(r, 8) },
  );
}

export function logRequests(seed: number, count: number, perRequest: number, baseMs = Date.UTC(2024, 0, 1)): Uint8Array[] {
  const r = rng(seed);
  const type = otlpTypes().ExportLogsServiceRequest;
  const out: Uint8Array[] = [];
  for (let q = 0; q < count; q++) {
    const service = SERVICES[q % SERVICES.length]!;
    // An exporter's batch is in time order: records within a few seconds of each other.
    let t = BigInt(baseMs + Math.floor(r() * 3_600_000)) * 1_000_000n;
    let traceId = bytes(r, 16);
    let spanId = bytes(r, 8);
    const logRecords = Array.from({ length: perRequest }, (_, i) => {
      t += BigInt(Math.floor(r() * 5_000_000));
      const [severityNumber, severityText, tpl] = TEMPLATES[Math.floor(r() * TEMPLATES.length)]!;
      const body = tpl
        .replace('{path}', `/api/products/${Math.floor(r() * 500)}`)
        .replace('{ms}', String(Math.floor(r() * 900)))
        .replace('{user}', `u${Math.floor(r() * 10_000)}`)
        .replace('{item}', String(Math.floor(r() * 2000)))
        .replace('{order}', bytes(r, 6).toString('hex'))
        .replace('{svc}', SERVICES[Math.floor(r() * SERVICES.length)]!)
        .replace('{n}', String(1 + Math.floor(r() * 3)));
      // ~60 % are written inside a span; a span writes a few records in a row.
      const inSpan = r() < 0.6;
      if (inSpan && r() < 0.3) {
        traceId = bytes(r, 16);
        spanId = bytes(r, 8);
      }
      const attributes = [str('code.function', `handle${severityText[0]}${i % 7}`), str('code.filepath', `src/${service}/handler.ts`), int('code.lineno', 100 + (i % 50)), str('thread.name', `worker-${i % 8}`)];
      if (severityNumber >= 17) attributes.push(str('exception.type', 'ECONNRESET'), str('exception.message', 'socket hang up'));
      return {
        timeUnixNano: t.toString(),
        observedTimeUnixNano: (t + BigInt(Math.floor(r() * 2_000_000))).toString(),
        severityNumber,
        severityText,
        body: { stringValue: body },
        attributes,
        traceId: inSpan ? traceId : undefined,
        spanId: inSpan ? spanId : undefined,
        flags: inSpan ? 1 : 0,
      };
    });
    const req = { resourceLogs: [{ resource: resource(service, q), scopeLogs: [{ scope: { name: 'pino', version: '9.0.0' }, logRecords }] }] };
    out.push(type.encode(type.fromObject(req)).finish());
  }
  return out;
}

/** Data points per request of `metricRequests`: 7 metrics, one point per series each. */
export const METRICS_PER_REQUEST = 7;

/**
 * Each request: one point per series for each of a service's 7 metrics (routes × status × pods).
 * `exemplarsPerPoint`: unset, one exemplar on every tenth histogram point (the bench load); set,
 * that many on every histogram and exponential histogram point, as an SDK with a trace-based
 * exemplar filter keeps one per bucket hit (an exemplar-heavy variant for the decoder benches).
 */
export function metricRequests(seed: number, count: number, seriesPerMetric: number, baseMs = Date.UTC(2024, 0, 1), exemplarsPerPoint?: number): Uint8Array[] {
  const r = rng(seed);
  const type = otlpTypes().ExportMetricsServiceRequest;
  const out: Uint8Array[] = [];
  const bounds = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];
  for (let q = 0; q < count; q++) {
    const service = SERVICES[q % SERVICES.length]!;
    const time = (BigInt(baseMs + q * 10_000) * 1_000_000n).toString();
    const start = (BigInt(baseMs) * 1_000_000n).toString();
    const series = (i: number) => [str('http.request.method', ['GET', 'POST'][i % 2]!), str('http.route', `/api/r${i % 20}`), int('http.response.status_code', [200, 404, 500][i % 3]!), str('url.scheme', 'http')];
    const points = <T>(f: (i: number) => T): T[] => Array.from({ length: seriesPerMetric }, (_, i) => f(i));
    const metrics = [
      { name: 'http.server.request.count', unit: '{request}', description: 'Requests served', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: points((i) => ({ startTimeUnixNano: start, timeUnixNano: time, asInt: 1000 * q + Math.floor(r() * 1000), attributes: series(i) })) } },
      { name: 'http.server.active_requests', unit: '{request}', sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: points((i) => ({ startTimeUnixNano: start, timeUnixNano: time, asInt: Math.floor(r() * 40), attributes: series(i) })) } },
      { name: 'process.memory.usage', unit: 'By', gauge: { dataPoints: points((i) => ({ timeUnixNano: time, asDouble: 1e8 + r() * 1e7, attributes: [str('process.memory.type', i % 2 ? 'heap' : 'rss')] })) } },
      { name: 'process.cpu.utilization', unit: '1', gauge: { dataPoints: points((i) => ({ timeUnixNano: time, asDouble: r(), attributes: [str('cpu.mode', ['user', 'system'][i % 2]!)] })) } },
      {
        name: 'http.server.request.duration',
        unit: 'ms',
        description: 'Duration of HTTP server requests',
        histogram: {
          aggregationTemporality: 2,
          dataPoints: points((i) => {
            const counts = bounds.map(() => Math.floor(r() * 50)).concat([Math.floor(r() * 5)]);
            const total = counts.reduce((a, b) => a + b, 0);
            const exemplars = exemplarsPerPoint === undefined
              ? (i % 10 === 0 ? [{ timeUnixNano: time, asDouble: 120.5, traceId: bytes(r, 16), spanId: bytes(r, 8), filteredAttributes: [str('user.id', 'u42')] }] : [])
              : manyExemplars(r, time, exemplarsPerPoint);
            return { startTimeUnixNano: start, timeUnixNano: time, count: total, sum: total * 120.5, min: 1.2, max: 4800, bucketCounts: counts, explicitBounds: bounds, attributes: series(i), exemplars };
          }),
        },
      },
      {
        name: 'rpc.client.duration',
        unit: 'ms',
        exponentialHistogram: {
          aggregationTemporality: 1,
          dataPoints: points((i) => {
            const pos = Array.from({ length: 12 }, () => Math.floor(r() * 30));
            const neg = i % 4 === 0 ? [Math.floor(r() * 3)] : [];
            const total = pos.reduce((a, b) => a + b, 0) + neg.reduce((a, b) => a + b, 0) + 2;
            const exemplars = exemplarsPerPoint === undefined ? [] : manyExemplars(r, time, exemplarsPerPoint);
            return { exemplars, startTimeUnixNano: start, timeUnixNano: time, count: total, sum: total * 33.3, scale: 3, zeroCount: 2, zeroThreshold: 0, positive: { offset: 20 + (i % 5), bucketCounts: pos }, negative: { offset: 0, bucketCounts: neg }, min: 0.4, max: 900, attributes: series(i) };
          }),
        },
      },
      {
        name: 'db.client.query.duration',
        unit: 's',
        summary: {
          dataPoints: points((i) => ({
            startTimeUnixNano: start,
            timeUnixNano: time,
            count: 100 + (i % 17),
            sum: 12.5 + r(),
            quantileValues: [0, 0.5, 0.9, 0.99, 1].map((quantile) => ({ quantile, value: quantile * (0.2 + r() * 0.1) })),
            attributes: [str('db.system', 'postgresql'), str('db.operation.name', ['SELECT', 'INSERT', 'UPDATE'][i % 3]!)],
          })),
        },
      },
    ];
    const req = { resourceMetrics: [{ resource: resource(service, q), scopeMetrics: [{ scope: { name: '@opentelemetry/sdk-metrics', version: '2.0.1' }, metrics }] }] };
    out.push(type.encode(type.fromObject(req)).finish());
  }
  return out;
}
