/** Real metrics from the OTel JS metrics SDK, collected by hand and sent by the official exporters. */
import { ValueType } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, MetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Transport } from './spans.js';

/** `timeoutMillis`: the exporter's own deadline per export (its default is 10 s). */
export function makeMetricExporter(transport: Transport, ports: { grpc?: number; http?: number }, timeoutMillis?: number): PushMetricExporter {
  const timeout = timeoutMillis !== undefined ? { timeoutMillis } : {};
  switch (transport) {
    case 'grpc':
      return new GrpcMetricExporter({ url: `http://127.0.0.1:${ports.grpc}`, ...timeout });
    case 'http-proto':
      return new ProtoMetricExporter({ url: `http://127.0.0.1:${ports.http}/v1/metrics`, ...timeout });
    case 'http-json':
      return new JsonMetricExporter({ url: `http://127.0.0.1:${ports.http}/v1/metrics`, ...timeout });
  }
}

export async function exportMetrics(exporter: PushMetricExporter, metrics: ResourceMetrics): Promise<void> {
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(metrics, resolve));
  if (result.code !== ExportResultCode.SUCCESS) throw result.error ?? new Error('export failed');
}

/** A reader that collects only when asked, so a test holds exactly what it exports. */
class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * Counters (double and int), an up-down counter, a histogram, an exponential histogram (by a
 * view) and an observable gauge, each with several attribute sets.
 */
export async function makeMetrics(serviceName: string): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    readers: [reader],
    views: [{ instrumentName: 'app.latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('e2e-meter', '3.0.0');
  const routes = ['/a', '/b', '/c'];
  const requests = meter.createCounter('app.requests', { description: 'Requests served', unit: '{request}' });
  const bytes = meter.createCounter('app.bytes', { unit: 'By', valueType: ValueType.INT });
  const inflight = meter.createUpDownCounter('app.inflight');
  const latency = meter.createHistogram('app.latency', { unit: 'ms', advice: { explicitBucketBoundaries: [5, 10, 50, 100] } });
  const latencyExp = meter.createHistogram('app.latency.exp', { unit: 'ms' });
  meter.createObservableGauge('app.temperature', { unit: 'Cel' }).addCallback((obs) => {
    obs.observe(21.5, { room: 'kitchen' });
    obs.observe(-3.25, { room: 'freezer' });
  });
  routes.forEach((route, i) => {
    for (let k = 0; k <= i; k++) requests.add(1.5, { route });
    bytes.add(1000 * (i + 1), { route, 'http.request.method': 'GET' });
    inflight.add(i - 1, { route });
    for (const v of [1, 7, 7, 60, 250].slice(0, 3 + i)) latency.record(v * (i + 1), { route });
    for (const v of [0, 0.5, 3, 17, -2].slice(0, 3 + i)) latencyExp.record(v, { route });
  });
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw errors[0];
  return resourceMetrics;
}
