/** OTLP/gRPC status rules, with a raw grpc-js client so any bytes can be sent. */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decodeTraceResponse, jsonSpan, jsonTraceRequest, protobufTraceRequest } from '../helpers/otlp.js';

const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

function call(client: grpc.Client, body: Uint8Array, path = PATH): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => new Uint8Array(b),
      body,
      (err, res) => (err ? reject(err) : resolve(res!)),
    ),
  );
}

describe('OTLP/gRPC receiver', () => {
  let d: TestDaemon;
  let client: grpc.Client;

  beforeAll(async () => {
    d = await startTestDaemon('[receivers.grpc]\nmax_recv_msg_size_mib = 1\n[buffer]\nmax_age_seconds = 3600');
    client = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await d?.cleanup();
  });

  it('accepts a request and answers an empty ExportTraceServiceResponse', async () => {
    const res = await call(client, protobufTraceRequest(jsonTraceRequest([jsonSpan()])));
    expect(decodeTraceResponse(res)).toEqual({});
  });

  it('accepts an empty request', async () => {
    expect(decodeTraceResponse(await call(client, new Uint8Array(0)))).toEqual({});
  });

  it('answers INVALID_ARGUMENT for undecodable protobuf', async () => {
    await expect(call(client, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]))).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/malformed protobuf/),
    });
  });

  it('answers RESOURCE_EXHAUSTED for a message over max_recv_msg_size_mib', async () => {
    await expect(call(client, new Uint8Array(1024 * 1024 + 10))).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });

  it('answers UNIMPLEMENTED for an unknown method', async () => {
    await expect(call(client, new Uint8Array(0), '/opentelemetry.proto.collector.trace.v1.TraceService/Nope')).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
    });
  });

  it('reports partial success for invalid spans', async () => {
    const res = await call(client, protobufTraceRequest(jsonTraceRequest([jsonSpan(), jsonSpan({ traceId: '00000000000000000000000000000000' })])));
    expect(decodeTraceResponse(res)).toMatchObject({ partialSuccess: { rejectedSpans: 1, errorMessage: expect.stringMatching(/invalid trace_id/) } });
  });

  it('answers UNAVAILABLE once the daemon is shutting down', async () => {
    // A second daemon, so stopping it does not affect the other tests.
    const other = await startTestDaemon();
    const c = new grpc.Client(`127.0.0.1:${other.ports.grpc}`, grpc.credentials.createInsecure());
    await other.pipeline.close();
    await expect(call(c, protobufTraceRequest(jsonTraceRequest([jsonSpan()])))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    c.close();
    await other.cleanup();
  });
});
