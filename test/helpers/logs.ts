/** Real log records from the OTel JS logs SDK, and the three official OTLP log exporters. */
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import type { AnyValue } from '@opentelemetry/api-logs';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BASE_SECONDS, type Transport } from './spans.js';

/** `timeoutMillis`: the exporter's own deadline per export (its default is 10 s). */
export function makeLogExporter(transport: Transport, ports: { grpc?: number; http?: number }, timeoutMillis?: number): LogRecordExporter {
  const timeout = timeoutMillis !== undefined ? { timeoutMillis } : {};
  switch (transport) {
    case 'grpc':
      return new GrpcLogExporter({ url: `http://127.0.0.1:${ports.grpc}`, ...timeout });
    case 'http-proto':
      return new ProtoLogExporter({ url: `http://127.0.0.1:${ports.http}/v1/logs`, ...timeout });
    case 'http-json':
      return new JsonLogExporter({ url: `http://127.0.0.1:${ports.http}/v1/logs`, ...timeout });
  }
}

export async function exportLogs(exporter: LogRecordExporter, records: ReadableLogRecord[]): Promise<void> {
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(records, resolve));
  if (result.code !== ExportResultCode.SUCCESS) throw result.error ?? new Error('export failed');
}

export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const SPAN_ID = 'b7ad6b7169203331';

/** Bodies of every AnyValue kind; the test checks each survives with its type. */
export const BODIES: { body: AnyValue; type: string }[] = [
  { body: 'plain text message', type: 'string' },
  { body: { user: 'ada', attempts: 3, ok: false, nested: { tags: ['a', 'b'] } }, type: 'kvlist' },
  { body: [1, 'two', true], type: 'array' },
  { body: 42, type: 'int' },
  { body: 2.5, type: 'double' },
  { body: true, type: 'bool' },
  { body: new Uint8Array([0, 1, 2, 254, 255]), type: 'bytes' },
];

/** One record per severity number 1..24, bodies cycling through every kind, half with trace context. */
export async function makeLogRecords(serviceName: string): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'deployment.environment.name': 'test' }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('e2e-logger', '0.9.0');
  const traced = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  for (let sev = 1; sev <= 24; sev++) {
    const { body } = BODIES[sev % BODIES.length]!;
    logger.emit({
      severityNumber: sev,
      severityText: `SEV${sev}`,
      body,
      timestamp: [BASE_SECONDS, sev * 1000 + 7],
      observedTimestamp: [BASE_SECONDS + 1, sev],
      attributes: { 'app.seq': sev, 'http.request.method': 'POST', 'app.list': ['x', 'y'] },
      ...(sev % 2 === 0 ? { context: traced } : {}),
      ...(sev === 24 ? { eventName: 'app.checkout.done' } : {}),
    });
  }
  await provider.forceFlush();
  return memory.getFinishedLogRecords();
}
