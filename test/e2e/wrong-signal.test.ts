/**
 * A body of another signal is never a silent success (issue 22, item 4): over protobuf its wire
 * types do not match the endpoint's message and it is refused naming the field (HTTP 400, gRPC
 * INVALID_ARGUMENT); over OTLP/JSON (where unknown fields are ignored) a request that carried
 * data but yielded no record says so in partial success. A JSON id that is not hex is quoted.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signal } from '../../src/otlp/json-ids.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decodeStatus, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';
import { decodeResponse, requestWithOneBad, toProtobuf } from '../helpers/otlp-requests.js';

const PROTO = 'application/x-protobuf';
const JSON_CT = 'application/json';
const SERVICE: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

describe('a body sent to the wrong signal endpoint', () => {
  let d: TestDaemon;
  let client: grpc.Client;
  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    client = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await d?.cleanup();
  });

  const post = (path: string, body: Uint8Array | string, contentType: string) =>
    fetch(d.httpUrl(path), { method: 'POST', body, headers: { 'content-type': contentType } });

  const grpcCall = (signal: Signal, body: Uint8Array) =>
    new Promise<{ err: grpc.ServiceError | null; reply?: Uint8Array }>((resolve) =>
      client.makeUnaryRequest(
        `/${SERVICE[signal]}/Export`,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => new Uint8Array(b),
        body,
        (err, reply) => resolve({ err, reply }),
      ),
    );

  it('a metrics request POSTed to /v1/logs is a 400 naming the field and the likely mix-up', async () => {
    const res = await post('/v1/logs', toProtobuf('metrics', requestWithOneBad('metrics', 'm')), PROTO);
    expect(res.status).toBe(400);
    const status = decodeStatus(new Uint8Array(await res.arrayBuffer()));
    expect(status.code).toBe(3);
    expect(status.message).toMatch(
      /^malformed protobuf ExportLogsServiceRequest: field resource_logs\.scope_logs\.log_records\.time_unix_nano \(LogRecord field 1\) arrived as wire type 2 \(length-delimited\) but is written as 1 \(64-bit\); the body reads as an ExportMetricsServiceRequest: was it sent to the wrong endpoint\?$/,
    );
  });

  const sumRequest = {
    resourceMetrics: [
      {
        scopeMetrics: [
          { metrics: [{ name: 'requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ timeUnixNano: '1704067500000000000', asInt: '3' }] } }] },
        ],
      },
    ],
  };

  it.each([
    ['logs', '/v1/traces', toProtobuf('logs', requestWithOneBad('logs', 'x')), /field resource_spans\.scope_spans\.spans\.trace_id \(Span field 1\) arrived as wire type 1 \(64-bit\).*reads as an ExportLogsServiceRequest/],
    ['traces', '/v1/metrics', toProtobuf('traces', requestWithOneBad('traces', 'x')), /field resource_metrics\.scope_metrics\.metrics\.gauge \(Metric field 5\) does not hold a valid Gauge message; the body reads as an ExportTraceServiceRequest/],
    ['metrics (a sum)', '/v1/traces', toProtobuf('metrics', sumRequest), /field resource_spans\.scope_spans\.spans\.start_time_unix_nano \(Span field 7\) arrived as wire type 2 .*reads as an ExportMetricsServiceRequest/],
  ] as const)('a %s request over OTLP/HTTP to %s is a 400 naming the field', async (_sent, path, body, message) => {
    const res = await post(path, body, PROTO);
    expect(res.status).toBe(400);
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).message).toMatch(message);
  });

  it('a gauge-only metrics request to /v1/traces fits the span wire types, but every "span" is refused, never stored silently', async () => {
    const res = await post('/v1/traces', toProtobuf('metrics', requestWithOneBad('metrics', 'g')), PROTO);
    expect(res.status).toBe(200);
    const body = decodeResponse('traces', new Uint8Array(await res.arrayBuffer())) as { partialSuccess?: { rejectedSpans: number; errorMessage: string } };
    expect(body.partialSuccess?.rejectedSpans).toBe(2);
    expect(body.partialSuccess?.errorMessage).toMatch(/^span 0: invalid trace_id/);
  });

  it('a metrics request to the gRPC LogsService is INVALID_ARGUMENT with the same message', async () => {
    const { err } = await grpcCall('logs', toProtobuf('metrics', requestWithOneBad('metrics', 'm')));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/field resource_logs\.scope_logs\.log_records\.time_unix_nano .*ExportMetricsServiceRequest/);
  });

  it('buffered nothing from the refused bodies', () => {
    expect(d.pipeline.bufferedRows).toBe(0); // max_age 3600: nothing was flushed away either
  });

  it('an OTLP/JSON logs request to /v1/traces is a partial success that says no spans came', async () => {
    const res = await post('/v1/traces', JSON.stringify(requestWithOneBad('logs', 'j')), JSON_CT);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { partialSuccess?: { errorMessage: string; rejectedSpans?: string } };
    expect(body.partialSuccess?.errorMessage).toMatch(/^the request carried \d+ bytes but no spans \(an OTLP\/JSON traces request lists them under "resourceSpans"; was it sent to the wrong endpoint\?\)$/);
    expect(Number(body.partialSuccess?.rejectedSpans ?? 0)).toBe(0);
  });

  it('a protobuf request whose resources hold no records says so too (HTTP and gRPC)', async () => {
    const empty = toProtobuf('traces', { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' } }] }] });
    const res = await post('/v1/traces', empty, PROTO);
    expect(res.status).toBe(200);
    const body = decodeResponse('traces', new Uint8Array(await res.arrayBuffer())) as { partialSuccess?: { errorMessage: string } };
    expect(body.partialSuccess?.errorMessage).toBe(`the request carried ${empty.length} bytes but no spans`);
    const { err, reply } = await grpcCall('traces', empty);
    expect(err).toBeNull();
    expect((decodeResponse('traces', reply!) as { partialSuccess?: { errorMessage: string } }).partialSuccess?.errorMessage).toMatch(/no spans$/);
  });

  it('an empty request stays a full success', async () => {
    const res = await post('/v1/traces', '{ }', JSON_CT);
    expect(await res.json()).toEqual({});
  });

  it('an OTLP/JSON traceId "abc" is refused saying 32 hex digits were expected and quoting it', async () => {
    const res = await post('/v1/traces', JSON.stringify(jsonTraceRequest([jsonSpan(), jsonSpan({ traceId: 'abc' })])), JSON_CT);
    const body = (await res.json()) as { partialSuccess: { errorMessage: string; rejectedSpans: string } };
    expect(Number(body.partialSuccess.rejectedSpans)).toBe(1);
    expect(body.partialSuccess.errorMessage).toBe('span 1: invalid trace_id: expected 16 non-zero bytes (32 hex digits), got "abc"');
    const logs = requestWithOneBad('logs', 'l'); // its bad record has spanId "abcdef"
    const logRes = await post('/v1/logs', JSON.stringify(logs), JSON_CT);
    expect(((await logRes.json()) as { partialSuccess: { errorMessage: string } }).partialSuccess.errorMessage).toBe(
      'log record 2: invalid span_id: expected 8 bytes (16 hex digits) or none, got "abcdef"',
    );
  });
});
