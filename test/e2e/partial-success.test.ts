/**
 * Partial success for every signal over every transport: the bad record is rejected alone,
 * counted in the response with the first problem named, and the rest is stored.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signal } from '../../src/otlp/json-ids.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { decodeResponse, requestWithOneBad, toProtobuf } from '../helpers/otlp-requests.js';

const SIGNALS: Signal[] = ['traces', 'logs', 'metrics'];
const REJECTED: Record<Signal, string> = { traces: 'rejectedSpans', logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints' };
const PROBLEM: Record<Signal, RegExp> = {
  traces: /^span 2: invalid trace_id/,
  logs: /^log record 2: invalid span_id/,
  metrics: /^point 2: exemplar 0: invalid trace_id/,
};
const SERVICE: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};
const NAME_COLUMN: Record<Signal, string> = { traces: 'name', logs: 'body', metrics: 'metric_name' };

describe('partial success', () => {
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

  for (const signal of SIGNALS) {
    it(`${signal}: OTLP/HTTP JSON`, async () => {
      const res = await fetch(d.httpUrl(`/v1/${signal}`), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(requestWithOneBad(signal, `${signal}-json`)),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { partialSuccess: Record<string, string> };
      expect(Number(body.partialSuccess[REJECTED[signal]])).toBe(1);
      expect(body.partialSuccess.errorMessage).toMatch(PROBLEM[signal]);
    });

    it(`${signal}: OTLP/HTTP protobuf`, async () => {
      const res = await fetch(d.httpUrl(`/v1/${signal}`), {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: toProtobuf(signal, requestWithOneBad(signal, `${signal}-proto`)),
      });
      expect(res.status).toBe(200);
      const body = decodeResponse(signal, new Uint8Array(await res.arrayBuffer())) as { partialSuccess: Record<string, unknown> };
      expect(body.partialSuccess[REJECTED[signal]]).toBe(1);
      expect(body.partialSuccess.errorMessage).toMatch(PROBLEM[signal]);
    });

    it(`${signal}: OTLP/gRPC`, async () => {
      const reply = await new Promise<Uint8Array>((resolve, reject) =>
        client.makeUnaryRequest(
          `/${SERVICE[signal]}/Export`,
          (b: Uint8Array) => Buffer.from(b),
          (b: Buffer) => new Uint8Array(b),
          toProtobuf(signal, requestWithOneBad(signal, `${signal}-grpc`)),
          (err, res) => (err ? reject(err) : resolve(res!)),
        ),
      );
      const body = decodeResponse(signal, reply) as { partialSuccess: Record<string, unknown> };
      expect(body.partialSuccess[REJECTED[signal]]).toBe(1);
      expect(body.partialSuccess.errorMessage).toMatch(PROBLEM[signal]);
    });
  }

  it('stored exactly the good records of every request', async () => {
    await d.pipeline.flush();
    for (const signal of SIGNALS) {
      const col = NAME_COLUMN[signal];
      const rows = await duckdbQuery(`SELECT ${col} AS tag, count(*)::INT AS n FROM ${datasetGlob(d.dir + '/data', signal)} GROUP BY 1 ORDER BY 1`);
      expect(rows).toEqual(['grpc', 'json', 'proto'].map((t) => ({ tag: `${signal}-${t}`, n: 2 })));
    }
  });
});
