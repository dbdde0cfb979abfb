/**
 * Differential test of the one-pass logs decoder (src/pipeline/convert-logs-wire.ts) against
 * protobufjs + convertLogs, the oracle: for every input, both must store the same rows
 * (byte-identical Arrow columns, same partitions, same accepted/rejected counts and
 * partial-success message), or both refuse it with the same error code (the same status).
 *
 * Inputs: the fuzz corpus's logs bodies, the fuzzer's logs seeds and thousands of their protobuf
 * mutations, hand-built requests (every body type, every AnyValue attribute, repeated singular
 * fields, odd oneofs, bad UTF-8, zero and extreme times, bad ids), the bench's realistic load,
 * and what the official OTLP exporter serialiser writes for SDK log records.
 */
import { gunzipSync } from 'node:zlib';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/otlp/decode.js';
import { differential, summary } from '../helpers/decoder-differential.js';
import type { ExportLogsServiceRequest } from '../../src/otlp/types.js';
import { convertLogs } from '../../src/pipeline/convert-logs.js';
import { convertLogsChecked, convertLogsWire } from '../../src/pipeline/convert-logs-wire.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { corpusBody, loadCorpus } from '../fuzz/corpus.js';
import { PROTO_MUTATIONS, Rng, ld, mutateProtobuf, seeds, varint, type Seed } from '../fuzz/mutate.js';
import { requestWithOneBad, toProtobuf } from '../helpers/otlp-requests.js';
import { T0_NS, hexId } from '../helpers/otlp.js';
import { makeLogRecords } from '../helpers/logs.js';
import { logRequests } from '../../bench/load/logs-metrics.js';

const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const PROMOTED = ['http.request.method', 'http.response.status_code', 'code.lineno', 'app.double:double', 'app.bool'].map(parsePromoted);
/** When the request "arrived": the event time of records with neither time set. */
const RECEIVED = T0_NS + 123_456n;

const same = differential('logs', {
  objects: (req) => convertLogs(req as ExportLogsServiceRequest, partitioner, PROMOTED, RECEIVED),
  wire: (body) => convertLogsWire(body, partitioner, PROMOTED, RECEIVED),
  clean: (body) => convertLogsChecked(body, partitioner, PROMOTED, RECEIVED) !== undefined,
});

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

describe('one-pass logs decoder = protobufjs + convertLogs', () => {
  it('on the fuzz corpus', () => {
    const entries = loadCorpus().filter((e) => /logs/i.test(e.path) && (e.content_type ?? 'application/x-protobuf').includes('protobuf') && !e.grpc_raw_payload);
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
    // Bodies of the other signals posted as logs: the same refusal (or the same rows) on both paths.
    for (const s of seeds().filter((x) => x.signal !== 'logs')) same(s.protobuf, `a ${s.signal} body as logs`);
  });

  it('on the fuzz seeds and 2000 of their protobuf mutations', { timeout: 240_000 }, () => {
    const logSeeds: Seed[] = seeds().filter((s) => s.signal === 'logs');
    const partial = requestWithOneBad('logs', 'fuzz-logs-partial', 3);
    logSeeds.push({ signal: 'logs', json: partial, protobuf: toProtobuf('logs', partial) });
    const rng = new Rng(0x10c5);
    let wire = 0;
    for (const s of logSeeds) expect(same(s.protobuf, 'seed')).toBe(true);
    for (let i = 0; i < 2000; i++) {
      const seed = logSeeds[i % logSeeds.length]!;
      const m = rng.pick(PROTO_MUTATIONS);
      const body = mutateProtobuf(rng, seed, m);
      if (same(body, `mutation ${i} (${m})`)) wire++;
    }
    expect(wire).toBeGreaterThan(300); // most mutations stay well-formed and take the one-pass path
  });

  it('on hand-built requests: every body type, odd oneofs, bad UTF-8, zero and extreme times, bad ids', () => {
    const attrs = [
      kv('s', { stringValue: 'plain' }),
      kv('u', { stringValue: 'ünïcode ✓ 𝄞' }),
      kv('b', { boolValue: true }),
      kv('i', { intValue: '-9223372036854775808' }),
      kv('d', { doubleValue: 1e-7 }),
      kv('bytes', { bytesValue: Buffer.from([0, 255, 1]).toString('base64') }),
      kv('arr', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } }),
      kv('kvl', { kvlistValue: { values: [kv('x', { doubleValue: 2.5 })] } }),
      kv('empty', {}),
      { key: 'novalue' },
      kv('http.request.method', { stringValue: 'GET' }),
      kv('http.response.status_code', { intValue: '404' }),
      kv('code.lineno', { stringValue: 'not an int' }),
      kv('app.double', { intValue: '3' }),
      kv('app.bool', { boolValue: false }),
    ];
    const t = (d: bigint) => (T0_NS + d).toString();
    const bodies = [
      { stringValue: 'text' },
      { stringValue: '' },
      { boolValue: false },
      { intValue: '42' },
      { doubleValue: 2.5 },
      { bytesValue: Buffer.from('hi').toString('base64') },
      { arrayValue: { values: [{ stringValue: 'x' }, { boolValue: true }] } },
      { kvlistValue: { values: attrs.slice(0, 4) } },
      {},
    ];
    const records: Record<string, unknown>[] = bodies.map((body, i) => ({ timeUnixNano: t(BigInt(i)), body, severityNumber: i * 3, severityText: i % 2 ? 'INFO' : '', attributes: attrs.slice(i) }));
    records.push(
      { timeUnixNano: t(9n), observedTimeUnixNano: t(10n), traceId: hexId(16), spanId: hexId(8), flags: 0xffffffff, eventName: 'app.started', droppedAttributesCount: 4, attributes: attrs },
      { observedTimeUnixNano: t(11n) }, // event time from observed time
      {}, // event time: when received
      { timeUnixNano: '18446744073709551615' }, // beyond 2262: clamped
      { timeUnixNano: t(12n), traceId: '00000000000000000000000000000000', spanId: '0000000000000000' }, // all-zero ids: no context
      { timeUnixNano: t(13n), traceId: 'abcd' },
      { timeUnixNano: t(14n), spanId: 'ab' },
      { timeUnixNano: (T0_NS + 3_600_000_000_000n).toString() }, // another hour: another partition
      { severityNumber: -5, severityText: 'odd', timeUnixNano: t(15n) },
    );
    const request = {
      resourceLogs: [
        { resource: { attributes: [kv('service.name', { stringValue: 'svc-hand' }), kv('k8s.pod.name', { stringValue: 'p-1' })], droppedAttributesCount: 2 }, schemaUrl: 'https://opentelemetry.io/schemas/1.21.0', scopeLogs: [{ scope: { name: 'n', version: 'v', attributes: attrs.slice(0, 2), droppedAttributesCount: 3 }, schemaUrl: 'scope-url', logRecords: records }] },
        { resource: { attributes: [kv('service.name', { intValue: '7' })] }, scopeLogs: [{ logRecords: [{ timeUnixNano: t(1n) }] }, {}] },
        {},
      ],
    };
    expect(same(toProtobuf('logs', request), 'hand-built')).toBe(true);

    // Raw byte tricks protobufjs accepts: fields out of order and repeated, unknown fields of every wire type,
    // bodies with two members (the one first seen last wins), a string body followed by another field, bad UTF-8.
    const recordBytes = (...fields: Uint8Array[]) => ld(1, ld(2, ld(2, concat(...fields))));
    const fixed64 = (field: number, v: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      return concat(varint((field << 3) | 1), b);
    };
    const time = fixed64(1, T0_NS);
    const body = (...members: Uint8Array[]) => ld(5, concat(...members));
    const cases: [string, Uint8Array][] = [
      ['fields in reverse order, text twice', recordBytes(ld(12, Buffer.from('ev')), ld(3, Buffer.from('first')), ld(3, Buffer.from('second')), fixed64(11, T0_NS + 1n), time)],
      ['unknown fields of every wire type', recordBytes(time, varint((90 << 3) | 0), varint(300), fixed64(91, 1n), ld(92, Buffer.from('x')), varint((93 << 3) | 5), Buffer.from([1, 2, 3, 4]))],
      ['string body then int (int wins)', recordBytes(time, body(ld(1, Buffer.from('a')), concat(varint(3 << 3), varint(5))))],
      ['int body then string (string wins)', recordBytes(time, body(concat(varint(3 << 3), varint(5)), ld(1, Buffer.from('b'))))],
      ['string body twice', recordBytes(time, body(ld(1, Buffer.from('a')), ld(1, Buffer.from('b'))))],
      ['body twice (the last replaces the first)', recordBytes(time, body(ld(1, Buffer.from('a'))), body(concat(varint(2 << 3), varint(1))))],
      ['string body with an unknown field', recordBytes(time, body(ld(1, Buffer.from('a')), concat(varint(40 << 3), varint(1))))],
      ['invalid UTF-8 in body, text and event name', recordBytes(time, body(ld(1, Buffer.from([0x66, 0xff, 0xc3]))), ld(3, Buffer.from([0xe2, 0x82])), ld(12, Buffer.from([0xc0])))],
      ['severity and count as 10-byte varints', recordBytes(time, varint(2 << 3), varint(2n ** 64n - 2n), varint(7 << 3), varint(2n ** 63n + 3n))],
      ['ids twice (the last counts)', recordBytes(time, ld(9, Buffer.from('ab', 'hex')), ld(9, Buffer.from(hexId(16, 5), 'hex')), ld(10, Buffer.from(hexId(8, 6), 'hex')), ld(10, Buffer.alloc(3)))],
      ['empty body', new Uint8Array(0)],
      // observed_time from its 32-bit words: null at 0, clamped beyond 2^63 − 1, the event time when time is unset.
      ...[1n, 2n ** 32n - 1n, 2n ** 32n, T0_NS, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n].map((v): [string, Uint8Array] => [
        `observed time ${v}, with and without a time`,
        ld(1, ld(2, concat(ld(2, fixed64(11, v)), ld(2, concat(time, fixed64(11, v)))))),
      ]),
    ];
    for (const [what, b] of cases) expect(same(b, what), what).toBe(true);
  });

  it('on the realistic bench load', () => {
    for (const body of logRequests(7, 6, 300)) expect(same(body, 'bench load')).toBe(true);
  });

  it('on what the official OTLP exporter serialiser writes', async () => {
    const body = ProtobufLogsSerializer.serializeRequest(await makeLogRecords('svc-exporter'));
    expect(body).toBeDefined();
    expect(same(body!, 'exporter')).toBe(true);
  });

  it('partitions by service and by keys (through the decoded shape) with the same result', () => {
    const keyed = new Partitioner({
      granularity: 'hour',
      format: 'date=%Y-%m-%d/hour=%H',
      byService: true,
      keys: [{ type: 'hash', field: 'trace_id', name: '', datasets: ['logs'], num_partitions: 4, default_label: 'other' }],
    });
    const byService = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: true });
    const body = logRequests(3, 2, 50)[0]!;
    for (const p of [byService, keyed]) {
      const fast = convertLogsWire(body, p, PROMOTED, RECEIVED);
      const slow = convertLogs(decodeRequest('logs', 'protobuf', body) as ExportLogsServiceRequest, p, PROMOTED, RECEIVED);
      expect(fast.groups.length).toBeGreaterThan(p === keyed ? 2 : 0);
      expect(summary({ converted: fast })).toEqual(summary({ converted: slow }));
    }
  });
});
