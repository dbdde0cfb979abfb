/**
 * Differential test of the one-pass traces decoder (src/pipeline/convert-traces-wire.ts)
 * against protobufjs + convertTraces, the oracle: for every input, both must store the same
 * rows (byte-identical Arrow columns, same partitions, same accepted/rejected counts and
 * partial-success message), or both refuse it with the same error code (the same status).
 *
 * Inputs: the fuzz corpus, the fuzzer's trace seeds and thousands of their protobuf mutations,
 * hand-built requests (every AnyValue type, repeated singular fields, odd oneofs, bad UTF-8,
 * times beyond 2262, links and events), the bench's realistic load, and what the official
 * OTLP exporter serialiser writes for SDK spans.
 */
import { gunzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/otlp/decode.js';
import { differential, summary, walkComplete } from '../helpers/decoder-differential.js';
import type { ExportTraceServiceRequest } from '../../src/otlp/types.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { convertTracesChecked, convertTracesWire } from '../../src/pipeline/convert-traces-wire.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { parsePromoted, parsePromotedResource } from '../../src/schema/promoted.js';
import { corpusBody, loadCorpus } from '../fuzz/corpus.js';
import { PROTO_MUTATIONS, Rng, ld, mutateProtobuf, seeds, varint } from '../fuzz/mutate.js';
import { toProtobuf } from '../helpers/otlp-requests.js';
import { hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';
import { makeTraceSpans } from '../helpers/spans.js';
import { traceRequests } from '../../bench/load/traces.js';

const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const PROMOTED = [
  ...['http.request.method', 'http.response.status_code', 'url.path', 'server.address', 'app.double:double', 'app.bool'].map(parsePromoted),
  // Schema version 2's dedicated resource columns (the bench load's resource has all four).
  ...['host.name', 'k8s.pod.name', 'service.version', 'telemetry.sdk.language'].map(parsePromotedResource),
];

const same = differential('traces', {
  objects: (req) => convertTraces(req as ExportTraceServiceRequest, partitioner, PROMOTED),
  wire: (body) => convertTracesWire(body, partitioner, PROMOTED),
  clean: (body) => convertTracesChecked(body, partitioner, PROMOTED) !== undefined,
});

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

describe('one-pass traces decoder = protobufjs + convertTraces', () => {
  it('on the fuzz corpus', () => {
    const entries = loadCorpus().filter((e) => /trace/i.test(e.path) && (e.content_type ?? 'application/x-protobuf').includes('protobuf') && !e.grpc_raw_payload);
    expect(entries.length).toBeGreaterThan(2);
    for (const e of entries) {
      let body = corpusBody(e);
      if (e.content_encoding === 'gzip') {
        try {
          body = gunzipSync(body, { maxOutputLength: 8 << 20 });
        } catch {
          continue; // a corrupt or oversized gzip body never reaches a decoder
        }
      }
      same(body, e.file);
    }
  });

  it('on the fuzz seeds and 2000 of their protobuf mutations', { timeout: 240_000 }, () => {
    const traceSeeds = seeds().filter((s) => s.signal === 'traces');
    const rng = new Rng(0x0ea55);
    let wire = 0;
    for (const s of traceSeeds) expect(same(s.protobuf, 'seed')).toBe(true);
    for (let i = 0; i < 2000; i++) {
      const seed = traceSeeds[i % traceSeeds.length]!;
      const m = rng.pick(PROTO_MUTATIONS);
      const body = mutateProtobuf(rng, seed, m);
      if (same(body, `mutation ${i} (${m})`)) wire++;
    }
    expect(wire).toBeGreaterThan(300); // most mutations stay well-formed and take the one-pass path
  });

  it('on hand-built requests: every AnyValue type, odd oneofs, bad UTF-8, extreme times, events and links', () => {
    const attrs = [
      kv('s', { stringValue: 'plain' }),
      kv('u', { stringValue: 'ünïcode ✓ 𝄞' }),
      kv('b', { boolValue: true }),
      kv('i', { intValue: '-9223372036854775808' }),
      kv('big', { intValue: '9223372036854775807' }),
      kv('d', { doubleValue: 1e-7 }),
      kv('nan', { doubleValue: 'NaN' }),
      kv('bytes', { bytesValue: Buffer.from([0, 255, 1]).toString('base64') }),
      kv('arr', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }, { arrayValue: { values: [] } }] } }),
      kv('kvl', { kvlistValue: { values: [kv('x', { doubleValue: 2.5 })] } }),
      kv('empty', {}),
      { key: 'novalue' },
      kv('http.request.method', { stringValue: 'GET' }),
      kv('http.response.status_code', { intValue: '404' }),
      kv('http.response.status_code', { intValue: '500' }), // second one stays in the map
      kv('app.double', { intValue: '3' }),
      kv('app.bool', { stringValue: 'not a bool' }),
    ];
    const spans = [
      jsonSpan({ attributes: attrs, parentSpanId: hexId(8) }),
      { ...jsonSpan(), traceState: 'k=v', flags: 0x301, kind: 99, status: { code: 2, message: 'bad' }, droppedAttributesCount: 7, droppedEventsCount: 1, droppedLinksCount: 2 },
      { ...jsonSpan(), startTimeUnixNano: '18446744073709551615', endTimeUnixNano: '0', status: { code: 1 } },
      {
        ...jsonSpan(),
        events: [{ timeUnixNano: '1704067500000000001', name: 'e1', attributes: attrs.slice(0, 3), droppedAttributesCount: 1 }, {}],
        links: [{ traceId: hexId(16), spanId: hexId(8), traceState: 'a=b', attributes: attrs.slice(3, 6), droppedAttributesCount: 2, flags: 1 }, {}],
      },
      jsonSpan({ traceId: '00000000000000000000000000000000' }),
      jsonSpan({ spanId: 'abcd' }),
      jsonSpan({ parentSpanId: 'ab' }),
      { ...jsonSpan(), startTimeUnixNano: '1704070000000000000' }, // another hour: another partition
    ];
    const request = jsonTraceRequest(spans, 'svc-hand');
    (request.resourceSpans as Record<string, unknown>[]).push(
      { schemaUrl: 'https://opentelemetry.io/schemas/1.21.0', scopeSpans: [{ schemaUrl: 'scope-url', scope: { name: 'n', version: 'v', attributes: attrs.slice(0, 2), droppedAttributesCount: 3 }, spans: [jsonSpan()] }] },
      { resource: { attributes: [kv('service.name', { intValue: '7' })], droppedAttributesCount: 4 }, scopeSpans: [{ spans: [jsonSpan()] }, {}] },
      {},
    );
    const body = toProtobuf('traces', request);
    expect(same(body, 'hand-built')).toBe(true);

    const span = toProtobuf('traces', jsonTraceRequest([jsonSpan()]));
    // Raw byte tricks protobufjs accepts: fields out of order and repeated, unknown fields of every wire type,
    // an AnyValue with two members (the one first seen last wins), invalid UTF-8 in names and values.
    const spanBytes = (extra: Uint8Array) => concat(ld(1, concat(ld(2, concat(ld(2, extra))))));
    const ids = concat(ld(1, Buffer.from(hexId(16, 77), 'hex')), ld(2, Buffer.from(hexId(8, 78), 'hex')));
    const fixed64 = (field: number, v: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      return concat(varint((field << 3) | 1), b);
    };
    const t0 = 1704067500000000000n;
    const anyValue = (...members: Uint8Array[]) => ld(9, concat(ld(1, Buffer.from('k')), ld(2, concat(...members))));
    const serviceAttr = (v: string) => ld(1, concat(ld(1, Buffer.from('service.name')), ld(2, ld(1, Buffer.from(v)))));
    const cases: [string, Uint8Array][] = [
      ['the oracle request', span],
      ['fields in reverse order, name twice', spanBytes(concat(fixed64(8, t0 + 5n), fixed64(7, t0), ld(5, Buffer.from('first')), ld(5, Buffer.from('second')), ids))],
      ['unknown fields of every wire type', spanBytes(concat(ids, fixed64(7, t0), varint((90 << 3) | 0), varint(300), fixed64(91, 1n), ld(92, Buffer.from('x')), varint((93 << 3) | 5), Buffer.from([1, 2, 3, 4])))],
      ['string then int then string', spanBytes(concat(ids, fixed64(7, t0), anyValue(ld(1, Buffer.from('a')), concat(varint(3 << 3), varint(5)), ld(1, Buffer.from('b')))))],
      ['int then string', spanBytes(concat(ids, fixed64(7, t0), anyValue(concat(varint(3 << 3), varint(5)), ld(1, Buffer.from('b')))))],
      ['bool over 32 bits, negative int', spanBytes(concat(ids, fixed64(7, t0), anyValue(concat(varint(2 << 3), varint(2n ** 32n))), anyValue(concat(varint(3 << 3), varint(2n ** 64n - 1n)))))],
      ['invalid UTF-8', spanBytes(concat(ids, fixed64(7, t0), ld(5, Buffer.from([0x66, 0xff, 0xc3])), anyValue(ld(1, Buffer.from([0xe2, 0x82])))))],
      ['kind and counts as 10-byte varints', spanBytes(concat(ids, fixed64(7, t0), varint(6 << 3), varint(2n ** 64n - 2n), varint(10 << 3), varint(2n ** 63n + 3n)))],
      ['status twice (the last replaces the first)', spanBytes(concat(ids, fixed64(7, t0), ld(15, concat(ld(2, Buffer.from('m')), varint(3 << 3), varint(2))), ld(15, concat(varint(3 << 3), varint(1)))))],
      ['resource twice and after the spans', ld(1, concat(ld(2, ld(2, concat(ids, fixed64(7, t0)))), ld(1, serviceAttr('a')), ld(1, serviceAttr('b'))))],
      ['empty body', new Uint8Array(0)],
    ];
    for (const [what, b] of cases) expect(same(b, what), what).toBe(true);
    // A 32-bit varint in 7 bytes: legal, but protobufjs (which skips a fixed 10) reads it its own way; it keeps the body.
    const sevenBytes = Uint8Array.from([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
    expect(same(spanBytes(concat(ids, fixed64(7, t0), varint(10 << 3), sevenBytes)), 'a 7-byte count')).toBe(false);
  });

  it('on span times written from their 32-bit words: end before start, at and beyond 2^32, 2^53 and 2^63', () => {
    // The one-pass decoder writes start, end and duration as two 32-bit words each, no bigint
    // (duration's low word borrows from the high one); the oracle computes them as bigints.
    const ids = concat(ld(1, Buffer.from(hexId(16, 61), 'hex')), ld(2, Buffer.from(hexId(8, 62), 'hex')));
    const fixed64 = (field: number, v: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      return concat(varint((field << 3) | 1), b);
    };
    const t0 = 1704067500000000000n;
    const times = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, t0, t0 + 4294967295n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
    const rng = new Rng(0x71e5);
    for (let i = 0; i < 40; i++) times.push(BigInt(rng.int(0, 2 ** 31)) * 2n ** 32n + BigInt(rng.int(0, 2 ** 32)));
    const spans: Uint8Array[] = [];
    for (const start of times) for (const end of times) spans.push(ld(2, concat(ids, fixed64(7, start), fixed64(8, end))));
    // One scope of every pair (2,809 spans, end < start half of them); a span with no times at all.
    spans.push(ld(2, ids));
    expect(same(ld(1, ld(2, concat(...spans))), 'every pair of times')).toBe(true);
  });

  it('gives up at the same message count as the limits walk (read in place, walked, refused spans)', () => {
    // The checked pass counts the messages it reads in place and those it walks into one count;
    // it must refuse at exactly the walk's limit (at most 50,000 plus one per 8 bytes).
    const ids = concat(ld(1, Buffer.from(hexId(16, 51), 'hex')), ld(2, Buffer.from(hexId(8, 52), 'hex')));
    const start = concat(varint((7 << 3) | 1), Buffer.from([0, 0, 0x5c, 0x3a, 0x4c, 0x8a, 0xa5, 0x17]));
    const fastAttr = ld(9, concat(ld(1, Buffer.from('k')), ld(2, ld(1, new Uint8Array(0))))); // read in place: 2 messages
    const emptyAttr = ld(9, new Uint8Array(0)); // walked: 1 message
    const bodies: [string, (n: number) => Uint8Array][] = [
      ['in-place attributes', (n) => ld(1, ld(2, ld(2, Buffer.concat([ids, start, ...Array<Uint8Array>(n).fill(fastAttr)]))))],
      ['walked attributes', (n) => ld(1, ld(2, ld(2, Buffer.concat([ids, start, ...Array<Uint8Array>(n).fill(emptyAttr)]))))],
      ['a refused span', (n) => ld(1, ld(2, ld(2, Buffer.concat([start, ...Array<Uint8Array>(n).fill(fastAttr)]))))],
    ];
    for (const [what, body] of bodies) {
      let lo = 1; // walk complete
      let hi = 200_000; // walk refuses
      expect(walkComplete('traces', body(lo))).toBe(true);
      expect(walkComplete('traces', body(hi))).toBe(false);
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (walkComplete('traces', body(mid))) lo = mid;
        else hi = mid;
      }
      expect(same(body(lo), `${what}: ${lo}, the most the walk takes`), what).toBe(true);
      expect(same(body(hi), `${what}: ${hi}, one too many`), what).toBe(false);
    }
  });

  it('on the shapes the KeyValue fast path reads in place, and their near misses', () => {
    const ids = concat(ld(1, Buffer.from(hexId(16, 91), 'hex')), ld(2, Buffer.from(hexId(8, 92), 'hex')));
    const start = concat(varint((7 << 3) | 1), Buffer.from([0, 0, 0x5c, 0x3a, 0x4c, 0x8a, 0xa5, 0x17])); // 2024-01-01
    const attr = (key: Uint8Array, value: Uint8Array) => ld(9, concat(ld(1, key), ld(2, value)));
    const int = (...bytes: number[]) => concat(varint(3 << 3), Uint8Array.from(bytes));
    const text = (s: string | Uint8Array) => ld(1, typeof s === 'string' ? Buffer.from(s) : s);
    const k = Buffer.from('k');
    const cases: [string, Uint8Array][] = [
      ['zero', attr(k, int(0))],
      ['2^28 - 1 in 4 bytes', attr(k, int(0xff, 0xff, 0xff, 0x7f))],
      ['2^28 in 5 bytes', attr(k, int(0x80, 0x80, 0x80, 0x80, 0x01))],
      ['a non-minimal zero', attr(k, int(0x80, 0x00))],
      ['two int members (the last wins)', attr(k, concat(int(5), int(7)))],
      ['an int then an unknown field', attr(k, concat(int(5), varint(9 << 3), varint(1)))],
      ['a string then an unknown field', attr(k, concat(text('v'), varint(9 << 3), varint(1)))],
      ['an empty key and an empty string', attr(new Uint8Array(0), text(''))],
      ['a 127-byte key, a 125-byte value', attr(Buffer.alloc(127, 0x61), text('b'.repeat(125)))],
      ['a 128-byte key, a 126-byte value', attr(Buffer.alloc(128, 0x61), text('b'.repeat(126)))],
      ['non-ASCII and invalid UTF-8 values', concat(attr(k, text('ünï ✓')), attr(k, text(Uint8Array.from([0x66, 0xff, 0xc3]))))],
      ['a value before its key', ld(9, concat(ld(2, int(5)), ld(1, k)))],
      ['the key twice', ld(9, concat(ld(1, Buffer.from('a')), ld(1, k), ld(2, text('v'))))],
      ['promoted: claimed, then the same key again', concat(attr(Buffer.from('http.response.status_code'), int(0xc8, 0x01)), attr(Buffer.from('http.response.status_code'), int(0xf4, 0x03)))],
      ['promoted: a value of the wrong type', attr(Buffer.from('http.response.status_code'), text('200'))],
    ];
    for (const [what, attrs] of cases) {
      const body = ld(1, ld(2, ld(2, concat(ids, start, attrs))));
      expect(same(body, what), what).toBe(true);
    }
  });

  it('on the realistic bench load', () => {
    for (const body of traceRequests(7, 6, 300)) expect(same(body, 'bench load')).toBe(true);
  });

  it('on what the official OTLP exporter serialiser writes', () => {
    const body = ProtobufTraceSerializer.serializeRequest(makeTraceSpans('svc-exporter'));
    expect(body).toBeDefined();
    expect(same(body!, 'exporter')).toBe(true);
  });

  it('partitions by service and by keys (through the decoded shape) with the same result', () => {
    const keyed = new Partitioner({
      granularity: 'hour',
      format: 'date=%Y-%m-%d/hour=%H',
      byService: true,
      keys: [{ type: 'hash', field: 'trace_id', name: '', datasets: ['traces'], num_partitions: 4, default_label: 'other' }],
    });
    const byService = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: true });
    const body = traceRequests(3, 2, 50)[0]!;
    for (const p of [byService, keyed]) {
      const fast = convertTracesWire(body, p, PROMOTED);
      const slow = convertTraces(decodeRequest('traces', 'protobuf', body) as ExportTraceServiceRequest, p, PROMOTED);
      expect(fast.groups.length).toBeGreaterThan(p === keyed ? 2 : 0);
      expect(summary({ converted: fast })).toEqual(summary({ converted: slow }));
    }
  });
});
