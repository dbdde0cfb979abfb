/**
 * Real spans made by the OpenTelemetry JS SDK, and the three official OTLP trace exporters
 * that send them (gRPC, HTTP/protobuf, HTTP/JSON).
 */
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, type HrTime } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

export type Transport = 'grpc' | 'http-proto' | 'http-json';

/** `timeoutMillis`: the exporter's own deadline per export (its default is 10 s). */
export function makeExporter(transport: Transport, ports: { grpc?: number; http?: number }, headers?: Record<string, string>, timeoutMillis?: number): SpanExporter {
  const timeout = timeoutMillis !== undefined ? { timeoutMillis } : {};
  switch (transport) {
    case 'grpc':
      return new GrpcExporter({ url: `http://127.0.0.1:${ports.grpc}`, ...timeout });
    case 'http-proto':
      return new ProtoExporter({ url: `http://127.0.0.1:${ports.http}/v1/traces`, ...(headers ? { headers } : {}), ...timeout });
    case 'http-json':
      return new JsonExporter({ url: `http://127.0.0.1:${ports.http}/v1/traces`, ...(headers ? { headers } : {}), ...timeout });
  }
}

/** Exports spans once and resolves with the exporter's result (rejects on failure). */
export async function exportSpans(exporter: SpanExporter, spans: ReadableSpan[]): Promise<void> {
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
  if (result.code !== ExportResultCode.SUCCESS) throw result.error ?? new Error('export failed');
}

/** 2024-01-01T00:05:00Z, with nanoseconds that a millisecond clock would lose. */
export const BASE_SECONDS = 1704067500;

function at(offsetSeconds: number, nanos: number): HrTime {
  return [BASE_SECONDS + offsetSeconds, nanos];
}

/**
 * A small trace: a SERVER root with attributes of every API type, a CLIENT child with an
 * error status and an event, a link to another trace, and a late span from the previous day.
 */
export function makeTraceSpans(serviceName: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'host.name': 'host-1', 'k8s.pod.uid': 'abc-123' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('e2e-tracer', '1.2.3');
  const root = tracer.startSpan('GET /checkout', {
    kind: SpanKind.SERVER,
    startTime: at(0, 123_456_789),
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'url.path': '/checkout',
      'server.address': 'shop.example',
      'app.string': 'hello "quoted" ünïcode',
      'app.int': 42,
      'app.negative': -7,
      'app.double': 3.25,
      'app.bool': true,
      'app.strings': ['a', 'b'],
      'app.ints': [1, 2, 3],
      'app.bools': [true, false],
    },
  });
  const linked = tracer.startSpan('other-root', { startTime: at(1, 1) });
  linked.end(at(1, 2));
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const child = tracer.startSpan(
    'SELECT orders',
    {
      kind: SpanKind.CLIENT,
      startTime: at(0, 200_000_001),
      attributes: { 'db.system': 'postgresql', 'http.response.status_code': 'not-a-number' },
      links: [{ context: linked.spanContext(), attributes: { 'link.reason': 'retry' } }],
    },
    ctx,
  );
  child.addEvent('exception', { 'exception.message': 'boom', 'exception.count': 2 }, at(0, 250_000_999));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'query failed' });
  child.end(at(0, 300_000_003));
  root.setStatus({ code: SpanStatusCode.OK });
  root.end(at(0, 900_000_000));
  // Late: started the day before, arrives now.
  const late = tracer.startSpan('late-batch-job', { kind: SpanKind.INTERNAL, startTime: at(-86_400, 5) }, ctx);
  late.end(at(-86_400, 10));
  return memory.getFinishedSpans();
}

export function hrTimeToNanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

export const KIND_NAMES: Record<number, string> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};
export const STATUS_NAMES: Record<number, string> = { 0: 'UNSET', 1: 'OK', 2: 'ERROR' };
