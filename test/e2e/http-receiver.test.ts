/**
 * OTLP/HTTP status rules: what the specification asks for each kind of request, and that a
 * refused request never disturbs data that was accepted.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { decodeStatus, decodeTraceResponse, hexId, jsonSpan, jsonTraceRequest, protobufTraceRequest } from '../helpers/otlp.js';

const PROTO = 'application/x-protobuf';
const JSON_CT = 'application/json';

describe('OTLP/HTTP receiver', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startTestDaemon('[receivers.http]\nmax_request_body_mib = 1\n[buffer]\nmax_age_seconds = 3600');
  });
  afterAll(async () => {
    await d?.cleanup();
  });

  const post = (body: NonNullable<RequestInit['body']>, headers: Record<string, string>, path = '/v1/traces') =>
    fetch(d.httpUrl(path), { method: 'POST', body, headers });

  it('accepts protobuf and answers with an empty protobuf ExportTraceServiceResponse', async () => {
    const res = await post(protobufTraceRequest(jsonTraceRequest([jsonSpan()])), { 'content-type': PROTO });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROTO);
    expect(decodeTraceResponse(new Uint8Array(await res.arrayBuffer()))).toEqual({});
  });

  it('accepts JSON with int64 as numbers, enums as integers and unknown fields, answering JSON', async () => {
    const span = { ...jsonSpan(), startTimeUnixNano: 1704067500000000000, futureField: { x: 1 } };
    const res = await post(JSON.stringify({ ...jsonTraceRequest([span]), alsoUnknown: true }), { 'content-type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(JSON_CT);
    expect(await res.json()).toEqual({});
  });

  it('accepts gzip bodies', async () => {
    const body = gzipSync(protobufTraceRequest(jsonTraceRequest([jsonSpan({ name: 'gzipped' })])));
    const res = await post(body, { 'content-type': PROTO, 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
  });

  it('accepts an empty request (protobuf and JSON)', async () => {
    expect((await post(new Uint8Array(0), { 'content-type': PROTO })).status).toBe(200);
    expect((await post('{}', { 'content-type': JSON_CT })).status).toBe(200);
  });

  it('answers 400 with a google.rpc.Status for malformed protobuf', async () => {
    const res = await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': PROTO });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe(PROTO);
    const status = decodeStatus(new Uint8Array(await res.arrayBuffer()));
    expect(status.code).toBe(3); // INVALID_ARGUMENT
    expect(status.message).toMatch(/malformed protobuf ExportTraceServiceRequest/);
  });

  it('answers 400 with a JSON Status for malformed JSON and for wrong JSON types', async () => {
    const bad = await post('{"resourceSpans": [', { 'content-type': JSON_CT });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/malformed JSON/);
    const wrongType = await post('{"resourceSpans": "nope"}', { 'content-type': JSON_CT });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { message: string }).message).toMatch(/resourceSpans/);
    const notObject = await post('[1,2]', { 'content-type': JSON_CT });
    expect(notObject.status).toBe(400);
  });

  it('answers 400 for a corrupt gzip body', async () => {
    const res = await post(new Uint8Array([0x1f, 0x8b, 0x08, 0, 1, 2, 3]), { 'content-type': PROTO, 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await post(new Uint8Array(1024 * 1024 + 1), { 'content-type': PROTO });
    expect(res.status).toBe(413);
  });

  it('answers 413 for a gzip bomb, without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~64 KiB
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const res = await post(bomb, { 'content-type': PROTO, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).message).toMatch(/decompressed request body exceeds/);
    // Generous bound: the limit is 1 MiB; a full inflate would add 64 MiB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('answers 415 for another content type or encoding', async () => {
    const res = await post('x', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { message: string }).message).toMatch(/unsupported Content-Type "text\/plain"/);
    const enc = await post('{}', { 'content-type': JSON_CT, 'content-encoding': 'br' });
    expect(enc.status).toBe(415);
  });

  it('answers 405 for another method and 404 for an unknown path', async () => {
    const get = await fetch(d.httpUrl('/v1/traces'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const missing = await post('{}', { 'content-type': JSON_CT }, '/v1/nothing');
    expect(missing.status).toBe(404);
  });

  it('rejects invalid spans alone with partial success, over protobuf and JSON', async () => {
    const good = jsonSpan({ name: 'partial-good' });
    const badTrace = jsonSpan({ name: 'partial-bad', traceId: 'abc' });
    const zeroSpan = jsonSpan({ name: 'partial-bad', spanId: '0000000000000000' });
    const jsonRes = await post(JSON.stringify(jsonTraceRequest([good, badTrace, zeroSpan])), { 'content-type': JSON_CT });
    expect(jsonRes.status).toBe(200);
    const body = (await jsonRes.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    expect(Number(body.partialSuccess.rejectedSpans)).toBe(2);
    expect(body.partialSuccess.errorMessage).toMatch(/span 1: invalid trace_id/);

    const protoReq = protobufTraceRequest(jsonTraceRequest([jsonSpan({ name: 'partial-good' }), jsonSpan({ name: 'partial-bad', spanId: hexId(4) })]));
    const protoRes = await post(protoReq, { 'content-type': PROTO });
    expect(protoRes.status).toBe(200);
    const decoded = decodeTraceResponse(new Uint8Array(await protoRes.arrayBuffer())) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    expect(decoded.partialSuccess.rejectedSpans).toBe(1);
    expect(decoded.partialSuccess.errorMessage).toMatch(/invalid span_id: expected 8 non-zero bytes/);
  });

  it('stores exactly the accepted spans; refused requests left no trace', async () => {
    await d.pipeline.flush();
    const rows = await duckdbQuery(`SELECT name, count(*)::INT AS n FROM ${datasetGlob(d.dir + '/data', 'traces')} GROUP BY name ORDER BY name`);
    expect(rows).toEqual([
      { name: 'gzipped', n: 1 },
      { name: 'op', n: 2 },
      { name: 'partial-good', n: 2 },
    ]);
  });
});
