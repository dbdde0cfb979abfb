/**
 * Recent telemetry for the web UI tests, made by the real OTel JS SDKs (spans, logs, metrics)
 * and sent by the official OTLP/HTTP protobuf exporters: traces of several services with
 * nesting, errors, events and links; log records tied to those traces; a counter, a gauge
 * and a histogram collected twice. Times are "now", so the UI's default range shows them.
 */
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { exportSpans, makeExporter } from './spans.js';

type Ports = { http?: number };

function tracerFor(memory: InMemorySpanExporter, service: string): Tracer {
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service, 'host.name': 'ui-host' }), spanProcessors: [new SimpleSpanProcessor(memory)] });
  return provider.getTracer('ui-test', '1.0.0');
}

/** ms since the epoch → HrTime. */
function hr(ms: number): [number, number] {
  return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
}

/**
 * `count` checkout traces: GET /checkout (frontend) → cart (api) → SELECT (db) ×2, payment (api)
 * with an event; every third fails in payment. Spread over the last `spreadMs`.
 */
export function makeCheckoutTraces(count: number, spreadMs = 10 * 60_000): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const fe = tracerFor(memory, 'frontend');
  const api = tracerFor(memory, 'api');
  const db = tracerFor(memory, 'db');
  const now = Date.now();
  let previous: Span | null = null;
  for (let i = 0; i < count; i++) {
    const t0 = now - spreadMs + (i * spreadMs) / count;
    const fail = i % 3 === 2;
    const root = fe.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: hr(t0), attributes: { 'http.request.method': 'GET', 'http.route': '/checkout', 'app.customer': `c${i % 4}` } });
    const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
    const cart = api.startSpan('load cart', { kind: SpanKind.INTERNAL, startTime: hr(t0 + 2), ...(previous ? { links: [{ context: previous.spanContext(), attributes: { 'link.kind': 'previous' } }] } : {}) }, rootCtx);
    const cartCtx = trace.setSpan(ROOT_CONTEXT, cart);
    for (let k = 0; k < 2; k++) {
      const q = db.startSpan('SELECT items', { kind: SpanKind.CLIENT, startTime: hr(t0 + 3 + k * 5), attributes: { 'db.system': 'postgresql' } }, cartCtx);
      q.end(hr(t0 + 7 + k * 5));
    }
    cart.end(hr(t0 + 14));
    const pay = api.startSpan('charge card', { kind: SpanKind.CLIENT, startTime: hr(t0 + 15) }, rootCtx);
    pay.addEvent('retry', { attempt: 1 }, hr(t0 + 20));
    if (fail) pay.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
    pay.end(hr(t0 + 30 + (i % 5) * 10));
    root.setStatus({ code: fail ? SpanStatusCode.ERROR : SpanStatusCode.OK });
    root.end(hr(t0 + 40 + (i % 5) * 10));
    previous = root;
  }
  return memory.getFinishedSpans();
}

/** One trace of `spans` spans: a root with `fanout` children each, breadth-first, all within 2 s. */
export function makeLargeTrace(spans: number, fanout = 10): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const t = tracerFor(memory, 'batch');
  const t0 = Date.now() - 60_000;
  const root = t.startSpan('nightly batch', { kind: SpanKind.SERVER, startTime: hr(t0) });
  const queue: Span[] = [root];
  const all: Span[] = [root];
  let n = 1;
  while (n < spans) {
    const parent = queue.shift()!;
    for (let k = 0; k < fanout && n < spans; k++, n++) {
      const s = t.startSpan(`step ${n}`, { startTime: hr(t0 + n * 0.15) }, trace.setSpan(ROOT_CONTEXT, parent));
      queue.push(s);
      all.push(s);
    }
  }
  all.forEach((s, i) => { if (i > 0) s.end(hr(t0 + i * 0.15 + 1 + ((spans - i) % 7))); });
  root.end(hr(t0 + spans * 0.15 + 20));
  return memory.getFinishedSpans();
}

export async function sendSpans(ports: Ports, spans: ReadableSpan[]): Promise<void> {
  const exporter = makeExporter('http-proto', ports);
  for (let i = 0; i < spans.length; i += 2000) await exportSpans(exporter, spans.slice(i, i + 2000));
  await exporter.shutdown();
}

/** Log records: two per given trace (INFO, and ERROR for error traces), plus `extra` untraced WARNs of service "worker". */
export async function sendLogs(ports: Ports, traces: readonly { traceId: string; spanId: string; error: boolean }[], extra: { service: string; body: string; severity: number }[] = []): Promise<void> {
  const memory = new InMemoryLogRecordExporter();
  const byService = new Map<string, LoggerProvider>();
  const loggerOf = (service: string) => {
    let p = byService.get(service);
    if (!p) byService.set(service, (p = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: [new SimpleLogRecordProcessor({ exporter: memory })] })));
    return p.getLogger('ui-test');
  };
  const now = Date.now();
  traces.forEach((tr, i) => {
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: tr.traceId, spanId: tr.spanId, traceFlags: TraceFlags.SAMPLED });
    loggerOf('frontend').emit({ severityNumber: 9, severityText: 'INFO', body: `checkout started ${i}`, timestamp: hr(now - 5000 + i), context, attributes: { 'app.step': 'start' } });
    if (tr.error) loggerOf('api').emit({ severityNumber: 17, severityText: 'ERROR', body: `card declined for checkout ${i}`, timestamp: hr(now - 4000 + i), context, attributes: { 'app.step': 'pay' } });
  });
  for (const e of extra) loggerOf(e.service).emit({ severityNumber: e.severity, severityText: e.severity >= 17 ? 'ERROR' : e.severity >= 13 ? 'WARN' : 'INFO', body: e.body, timestamp: hr(Date.now()) });
  for (const p of byService.values()) await p.forceFlush();
  const exporter = new OTLPLogExporter({ url: `http://127.0.0.1:${ports.http}/v1/logs` });
  const records = memory.getFinishedLogRecords();
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(records, resolve));
  await exporter.shutdown();
  if (result.code !== ExportResultCode.SUCCESS) throw result.error ?? new Error('log export failed');
}

class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * ui.requests (counter, by route), ui.queue.depth (gauge), ui.latency (histogram, ms) and
 * ui.latency.exp (the same values in an exponential histogram, by a view): collected and exported
 * twice, `gapMs` apart, so a cumulative counter has a rate. Then ui.rpc.summary, a Summary (the
 * JS SDK makes none), sent as OTLP/JSON with quantiles 0.5 → 100, 0.9 → 300, 0.99 → 900.
 */
export async function sendMetrics(ports: Ports, gapMs = 1500): Promise<void> {
  const reader = new ManualReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'api' }),
    readers: [reader],
    views: [{ instrumentName: 'ui.latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('ui-test');
  const requests = meter.createCounter('ui.requests', { description: 'Requests served', unit: '{request}' });
  const latency = meter.createHistogram('ui.latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 50, 100, 500] } });
  const latencyExp = meter.createHistogram('ui.latency.exp', { unit: 'ms' });
  let depth = 3;
  meter.createObservableGauge('ui.queue.depth', { unit: '{item}' }).addCallback((obs) => obs.observe(depth, { queue: 'orders' }));
  const exporter = new OTLPMetricExporter({ url: `http://127.0.0.1:${ports.http}/v1/metrics` });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 20; i++) {
      requests.add(1, { route: i % 4 === 0 ? '/cart' : '/checkout' });
      latency.record(5 + i * 7, { route: '/checkout' });
      latencyExp.record(5 + i * 7, { route: '/checkout' });
    }
    depth += 4;
    const { resourceMetrics } = await reader.collect();
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(resourceMetrics, resolve));
    if (result.code !== ExportResultCode.SUCCESS) throw result.error ?? new Error('metric export failed');
    if (round === 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  await exporter.shutdown();
  await provider.shutdown();
  await sendSummary(ports);
}

export const SUMMARY_QUANTILES = [
  { quantile: 0.5, value: 100 },
  { quantile: 0.9, value: 300 },
  { quantile: 0.99, value: 900 },
] as const;

async function sendSummary(ports: Ports): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const point = (t: bigint) => ({ startTimeUnixNano: String(now - 60_000_000_000n), timeUnixNano: String(t), count: '50', sum: 12_000, quantileValues: SUMMARY_QUANTILES });
  const body = {
    resourceMetrics: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
      scopeMetrics: [{ scope: { name: 'ui-test' }, metrics: [{ name: 'ui.rpc.summary', unit: 'ms', summary: { dataPoints: [point(now - 2_000_000_000n), point(now)] } }] }],
    }],
  };
  const res = await fetch(`http://127.0.0.1:${ports.http}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`summary export: ${res.status} ${await res.text()}`);
}
