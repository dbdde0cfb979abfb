/**
 * Traces for the Tempo and Jaeger API tests, made by the OpenTelemetry JS SDK and sent by the
 * official exporters (one service per transport): three services, a root in `frontend`, a
 * server span in `checkout` (errors, events, an unpromoted int attribute), a client span in
 * `payments` (links, a resource attribute that unscoped `.app.tier` falls back to), one trace
 * whose root never arrives, and two traces two hours back (outside default ranges).
 */
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, TraceFlags, trace, type HrTime, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { exportSpans, makeExporter, type Transport } from './spans.js';

export const CORPUS_TRACES = 12;
export const OLD_TRACES = new Set([10, 11]);
export const ORPHAN_TRACE = 7;

interface Service {
  readonly tracer: Tracer;
  readonly memory: InMemorySpanExporter;
  readonly transport: Transport;
}

function service(name: string, transport: Transport, extra: Record<string, string> = {}): Service {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': name, 'deployment.environment': name === 'frontend' ? 'prod' : 'staging', ...extra }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  return { tracer: provider.getTracer(`${name}-tracer`, '0.9.0'), memory, transport };
}

function hr(ms: number, extraNs = 0): HrTime {
  const whole = Math.floor(ms / 1000);
  return [whole, (ms - whole * 1000) * 1_000_000 + extraNs];
}

/** Builds the corpus relative to `nowMs` and sends it; returns every span. */
export async function sendCorpus(nowMs: number, ports: { grpc: number; http: number }): Promise<ReadableSpan[]> {
  const frontend = service('frontend', 'grpc');
  const checkout = service('checkout', 'http-json');
  const payments = service('payments', 'http-proto', { 'app.tier': 'gold' });
  let previous: ReturnType<Tracer['startSpan']> | undefined;
  for (let i = 0; i < CORPUS_TRACES; i++) {
    const t0 = OLD_TRACES.has(i) ? nowMs - 2 * 3_600_000 - i * 60_000 : nowMs - 60_000 - i * 4 * 60_000;
    const rootDuration = 10 + i;
    let parentCtx = ROOT_CONTEXT;
    if (i === ORPHAN_TRACE) {
      // A remote parent that is never sent: the trace's root "has not arrived".
      parentCtx = trace.setSpanContext(ROOT_CONTEXT, { traceId: `0000000000000000${(0xabc000 + i).toString(16).padStart(16, '0')}`, spanId: 'feedfacefeedface', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    } else {
      const root = frontend.tracer.startSpan(i % 2 ? 'GET /cart' : 'GET /checkout', {
        kind: SpanKind.SERVER,
        startTime: hr(t0, 7),
        attributes: { 'http.request.method': 'GET', 'http.response.status_code': i % 3 === 0 ? 500 : 200, 'url.path': i % 2 ? '/cart' : '/checkout', 'app.region': i % 2 ? 'eu' : 'us' },
      });
      root.end(hr(t0 + rootDuration, 11));
      parentCtx = trace.setSpan(ROOT_CONTEXT, root);
      if (previous === undefined) previous = root;
    }
    const server = checkout.tracer.startSpan(
      'process-order',
      { kind: SpanKind.SERVER, startTime: hr(t0 + 1, 3), attributes: { 'app.items': i, 'app.tier': i % 2 ? 'silver' : 'gold', 'http.request.method': i % 2 ? 'POST' : 'PUT' } },
      parentCtx,
    );
    server.addEvent('validated', { 'order.lines': i + 1 }, hr(t0 + 2));
    if (i % 4 === 0) server.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    server.end(hr(t0 + 3 + (i % 5)));
    const client = payments.tracer.startSpan(
      'charge',
      {
        kind: SpanKind.CLIENT,
        startTime: hr(t0 + 2, 5),
        attributes: { 'http.response.status_code': i % 3 === 0 ? 502 : 201, 'server.address': 'psp.example' },
        ...(previous !== undefined ? { links: [{ context: previous.spanContext(), attributes: { 'link.kind': 'previous-order' } }] } : {}),
      },
      trace.setSpan(parentCtx, server),
    );
    client.setStatus({ code: SpanStatusCode.OK });
    client.end(hr(t0 + 2 + (i + 1) * 3));
  }
  const all: ReadableSpan[] = [];
  for (const s of [frontend, checkout, payments]) {
    const spans = s.memory.getFinishedSpans();
    await exportSpans(makeExporter(s.transport, ports), [...spans]);
    all.push(...spans);
  }
  return all;
}
