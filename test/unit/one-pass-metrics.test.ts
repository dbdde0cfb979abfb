/**
 * Differential test of the one-pass metrics decoder (src/pipeline/convert-metrics-wire.ts)
 * against protobufjs + convertMetrics, the oracle: for every input, both must store the same rows
 * (byte-identical Arrow columns, same partitions, same accepted/rejected counts and
 * partial-success message), or both refuse it with the same error code (the same status).
 *
 * Inputs: the fuzz corpus's metrics bodies, the fuzzer's metrics seeds and thousands of their
 * protobuf mutations, hand-built requests (every metric type, every optional field present and
 * absent, packed and unpacked repeated fields, odd oneofs, metrics with no data or no name, bad
 * exemplar ids, extreme counts and times), the bench's realistic load, and what the official
 * OTLP exporter serialiser writes for SDK metrics.
 */
import { gunzipSync } from 'node:zlib';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/otlp/decode.js';
import { differential, summary, walkComplete } from '../helpers/decoder-differential.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/metric-types.js';
import { convertMetrics } from '../../src/pipeline/convert-metrics.js';
import { convertMetricsChecked, convertMetricsWire } from '../../src/pipeline/convert-metrics-wire.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { corpusBody, loadCorpus } from '../fuzz/corpus.js';
import { PROTO_MUTATIONS, Rng, ld, mutateProtobuf, seeds, varint, type Seed } from '../fuzz/mutate.js';
import { requestWithOneBad, toProtobuf } from '../helpers/otlp-requests.js';
import { T0_NS, hexId } from '../helpers/otlp.js';
import { makeMetrics } from '../helpers/metrics.js';
import { metricRequests } from '../../bench/load/logs-metrics.js';

const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const PROMOTED = ['http.request.method', 'http.response.status_code', 'http.route', 'app.double:double', 'app.bool'].map(parsePromoted);
/** When the request "arrived" (the event-time window is off in this partitioner). */
const RECEIVED = T0_NS + 123_456n;

const same = differential('metrics', {
  objects: (req) => convertMetrics(req as ExportMetricsServiceRequest, partitioner, PROMOTED, RECEIVED),
  wire: (body) => convertMetricsWire(body, partitioner, PROMOTED, RECEIVED),
  clean: (body) => convertMetricsChecked(body, partitioner, PROMOTED, RECEIVED) !== undefined,
});

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

describe('one-pass metrics decoder = protobufjs + convertMetrics', () => {
  it('on the fuzz corpus', () => {
    const entries = loadCorpus().filter((e) => /metrics/i.test(e.path) && (e.content_type ?? 'application/x-protobuf').includes('protobuf') && !e.grpc_raw_payload);
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
    // Bodies of the other signals posted as metrics: the same refusal (or the same rows) on both paths.
    for (const s of seeds().filter((x) => x.signal !== 'metrics')) same(s.protobuf, `a ${s.signal} body as metrics`);
  });

  it('on the fuzz seeds and 2000 of their protobuf mutations', { timeout: 240_000 }, () => {
    const metricSeeds: Seed[] = seeds().filter((s) => s.signal === 'metrics');
    const rng = new Rng(0x3e7c);
    let wire = 0;
    for (const s of metricSeeds) expect(same(s.protobuf, 'seed')).toBe(true);
    for (let i = 0; i < 2000; i++) {
      const seed = metricSeeds[i % metricSeeds.length]!;
      const m = rng.pick(PROTO_MUTATIONS);
      const body = mutateProtobuf(rng, seed, m);
      if (same(body, `mutation ${i} (${m})`)) wire++;
    }
    expect(wire).toBeGreaterThan(300); // most mutations stay well-formed and take the one-pass path
  });

  it('on hand-built requests: every metric type, optional fields, odd oneofs, no data, no name, bad exemplars', () => {
    const attrs = [
      kv('s', { stringValue: 'plain' }),
      kv('b', { boolValue: true }),
      kv('i', { intValue: '-9223372036854775808' }),
      kv('d', { doubleValue: 1e-7 }),
      kv('arr', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } }),
      kv('empty', {}),
      kv('http.request.method', { stringValue: 'GET' }),
      kv('http.response.status_code', { intValue: '404' }),
      kv('http.route', { intValue: '5' }),
      kv('app.double', { doubleValue: 2.5 }),
    ];
    const t = (d: bigint) => (T0_NS + d).toString();
    const exemplars = [
      { timeUnixNano: t(1n), asDouble: 1.5, traceId: hexId(16), spanId: hexId(8), filteredAttributes: attrs.slice(0, 3) },
      { timeUnixNano: t(2n), asInt: '-7' },
      { timeUnixNano: '18446744073709551615' },
      { traceId: '00000000000000000000000000000000' },
    ];
    const metrics: Record<string, unknown>[] = [
      { name: 'g', description: 'a gauge', unit: '1', metadata: [kv('m', { stringValue: 'v' })], gauge: { dataPoints: [{ timeUnixNano: t(0n), asDouble: 0.25, attributes: attrs, exemplars }, { timeUnixNano: t(1n), asInt: '9223372036854775807', flags: 1 }, { timeUnixNano: t(2n) }, { startTimeUnixNano: t(-5n), timeUnixNano: '18446744073709551615', asDouble: 'NaN' }] } },
      { name: 's', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ startTimeUnixNano: t(0n), timeUnixNano: t(3n), asInt: '-3', attributes: attrs.slice(4) }] } },
      { name: 's2', sum: { aggregationTemporality: 9, dataPoints: [{ timeUnixNano: t(3n), asDouble: -0 }] } },
      { name: 'h', unit: 'ms', histogram: { aggregationTemporality: 2, dataPoints: [
        { timeUnixNano: t(4n), count: '18446744073709551615', sum: 0, min: 0, max: 9, bucketCounts: ['1', '18446744073709551615', '0'], explicitBounds: [1, 2.5], exemplars: exemplars.slice(0, 2) },
        { timeUnixNano: t(5n), count: '0' },
        { timeUnixNano: t(6n), explicitBounds: [], bucketCounts: [], flags: 4294967295 },
      ] } },
      { name: 'e', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [
        { timeUnixNano: t(7n), count: '5', sum: 3.5, scale: -3, zeroCount: '18446744073709551615', zeroThreshold: 1e-9, positive: { offset: -4, bucketCounts: ['1', '2', '18446744073709551615'] }, negative: { offset: 7, bucketCounts: [] }, min: -1, max: 10, exemplars: exemplars.slice(1, 2) },
        { timeUnixNano: t(8n), scale: 20 },
        { timeUnixNano: t(9n), positive: {} },
      ] } },
      { name: 'q', summary: { dataPoints: [
        { timeUnixNano: t(10n), startTimeUnixNano: t(1n), count: '4', sum: 10, quantileValues: [{ quantile: 0, value: 1 }, { quantile: 1, value: 4 }, {}], attributes: attrs.slice(0, 2) },
        { timeUnixNano: t(11n) },
      ] } },
      { name: 'nodata' },
      { name: '', gauge: { dataPoints: [{ timeUnixNano: t(12n), asDouble: 1 }, { timeUnixNano: t(13n), asDouble: 2 }] } },
      { name: 'nopoints', gauge: {} },
      { name: 'badex', gauge: { dataPoints: [{ timeUnixNano: t(14n), asDouble: 1, exemplars: [{ traceId: 'abcd' }] }, { timeUnixNano: t(15n), asDouble: 1, exemplars: [{}, { spanId: 'ab' }] }] } },
      // Exemplars read once into arrays: each one's attributes in its own row (the first and the
      // last carry some, the middle none), as_int and time at the 64-bit edges (words, no bigint).
      { name: 'exwords', gauge: { dataPoints: [{ timeUnixNano: t(16n), asDouble: 1, exemplars: [
        { timeUnixNano: '9223372036854775807', asInt: '9007199254740993', filteredAttributes: attrs.slice(0, 2) },
        { timeUnixNano: '9223372036854775808', asInt: '-9223372036854775808' },
        { timeUnixNano: '4294967296', asInt: '-4294967297', traceId: hexId(16), filteredAttributes: attrs.slice(1, 4) },
        { timeUnixNano: '4294967295', asInt: '9223372036854775807', spanId: hexId(8) },
      ] }, { timeUnixNano: t(17n), asInt: '3', exemplars: [{ asDouble: -0.5, filteredAttributes: attrs.slice(0, 1) }] }] } },
      { name: 'later', gauge: { dataPoints: [{ timeUnixNano: (T0_NS + 3_600_000_000_000n).toString(), asDouble: 1 }] } }, // another partition
    ];
    const request = {
      resourceMetrics: [
        { resource: { attributes: [kv('service.name', { stringValue: 'svc-hand' })], droppedAttributesCount: 2 }, schemaUrl: 'https://opentelemetry.io/schemas/1.21.0', scopeMetrics: [{ scope: { name: 'n', version: 'v', attributes: attrs.slice(0, 2) }, schemaUrl: 'scope-url', metrics }] },
        { resource: { attributes: [kv('service.name', { intValue: '7' })] }, scopeMetrics: [{ metrics: [metrics[1]!] }, {}] },
        {},
      ],
    };
    expect(same(toProtobuf('metrics', request), 'hand-built')).toBe(true);

    // Raw byte tricks protobufjs accepts: unpacked repeated fields (and packed and unpacked mixed),
    // two data members in one metric (the one first seen last wins), repeated singular fields,
    // unknown fields, a value oneof with both members, bad UTF-8 in names.
    const f64 = (field: number, v: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt.asUintN(64, v));
      return concat(varint((field << 3) | 1), b);
    };
    const dbl = (field: number, v: number) => {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      return concat(varint((field << 3) | 1), b);
    };
    const packed64 = (field: number, vs: bigint[]) => ld(field, concat(...vs.map((v) => f64(0, v).subarray(1))));
    const metricBytes = (...fields: Uint8Array[]) => ld(1, ld(2, ld(2, concat(...fields))));
    const name = (n: string | Buffer) => ld(1, Buffer.from(n));
    const time = f64(3, T0_NS);
    const gauge = (...point: Uint8Array[]) => ld(5, ld(1, concat(...point)));
    const sum = (...point: Uint8Array[]) => ld(7, concat(ld(1, concat(...point)), varint(2 << 3), varint(2), varint(3 << 3), varint(1)));
    const hist = (...point: Uint8Array[]) => ld(9, ld(1, concat(...point)));
    const cases: [string, Uint8Array][] = [
      ['unpacked bucket counts and bounds', metricBytes(name('h'), hist(time, f64(4, 3n), f64(6, 1n), f64(6, 2n), dbl(7, 5), dbl(7, 6)))],
      ['packed and unpacked mixed', metricBytes(name('h'), hist(time, f64(6, 1n), packed64(6, [2n, 3n]), dbl(7, 5), ld(7, Buffer.alloc(16))))],
      ['optional sum/min/max twice', metricBytes(name('h'), hist(time, dbl(5, 1), dbl(5, 2), dbl(11, 0), dbl(12, -1), dbl(12, 3)))],
      ['gauge then sum (sum wins)', metricBytes(name('m'), gauge(time, dbl(4, 1)), sum(time, f64(6, 2n)))],
      ['sum then gauge then sum again (gauge wins)', metricBytes(name('m'), sum(time, f64(6, 2n)), gauge(time, dbl(4, 1)), sum(time, f64(6, 3n)))],
      ['gauge twice (the last one)', metricBytes(name('m'), gauge(time, dbl(4, 1)), gauge(time, dbl(4, 2), dbl(4, 3)))],
      ['as_double then as_int (int wins)', metricBytes(name('m'), gauge(time, dbl(4, 1), f64(6, -2n)))],
      ['as_int then as_double then as_int', metricBytes(name('m'), gauge(time, f64(6, 5n), dbl(4, 1), f64(6, 6n)))],
      ['name twice, bad UTF-8 in unit and description', metricBytes(name('a'), name('b'), ld(2, Buffer.from([0xff])), ld(3, Buffer.from([0xe2, 0x82])), gauge(time))],
      ['unknown fields everywhere', metricBytes(name('m'), varint((40 << 3) | 0), varint(1), gauge(time, varint((40 << 3) | 5), Buffer.alloc(4), ld(41, Buffer.from('x'))), f64(42, 1n))],
      ...[0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n].map((v): [string, Uint8Array] => [
        `start time, as_int, counts and buckets at ${v} (words, clamped or wrapped as the bigint path)`,
        concat(
          metricBytes(name('m'), gauge(f64(2, v), time, f64(6, v))),
          metricBytes(name('h'), hist(time, f64(2, v), f64(4, v), f64(6, v), packed64(6, [v, 1n]))),
          metricBytes(name('e'), ld(10, ld(1, concat(time, f64(4, v), f64(7, v), ld(8, concat(varint(2 << 3), varint(v))), ld(9, ld(2, concat(varint(v), varint(3)))))))),
          metricBytes(name('q'), ld(11, ld(1, concat(time, f64(4, v))))),
        ),
      ]),
      ['metric with no name and no data', metricBytes()],
      ['empty body', new Uint8Array(0)],
    ];
    for (const [what, b] of cases) expect(same(b, what), what).toBe(true);
    // A packed run cut short (9 bytes of fixed64): protobufjs reads past it its own way; it keeps the body.
    expect(same(metricBytes(name('h'), hist(time, ld(6, Buffer.alloc(9)), f64(4, 1n))), 'cut packed run')).toBe(false);
  });

  it('gives up at the same message count as the limits walk (points, attributes, exemplars, refused points)', () => {
    // The checked pass counts the messages it reads in place and those its guard walks into one
    // count; it must refuse at exactly the walk's limit (at most 50,000 plus one per 8 bytes).
    const time = concat(varint((3 << 3) | 1), Buffer.from([0, 0, 0x5c, 0x3a, 0x4c, 0x8a, 0xa5, 0x17])); // 2024-01-01
    const fastAttr = ld(7, concat(ld(1, Buffer.from('k')), ld(2, ld(1, new Uint8Array(0))))); // read in place: 2 messages
    const emptyAttr = ld(7, new Uint8Array(0)); // walked: 1 message
    const exemplar = ld(5, new Uint8Array(0)); // walked: 1 message
    const point = ld(1, new Uint8Array(0)); // an empty point: 1 message in 2 bytes
    // Array literals, not spread calls: 200,000 arguments overflow the stack.
    const gauge = (data: Uint8Array) => ld(1, ld(2, ld(2, concat(ld(1, Buffer.from('m')), ld(5, data)))));
    const many = (head: Uint8Array[], part: Uint8Array, n: number) => Buffer.concat([...head, ...Array<Uint8Array>(n).fill(part)]);
    const bodies: [string, (n: number) => Uint8Array][] = [
      ['points', (n) => gauge(many([], point, n))],
      ['in-place attributes', (n) => gauge(ld(1, many([time], fastAttr, n)))],
      ['walked attributes', (n) => gauge(ld(1, many([time], emptyAttr, n)))],
      ['exemplars', (n) => gauge(ld(1, many([time], exemplar, n)))],
      ['a refused point (bad exemplar id)', (n) => gauge(ld(1, many([time, ld(5, ld(5, Buffer.alloc(3)))], fastAttr, n)))],
    ];
    for (const [what, body] of bodies) {
      let lo = 1; // walk complete
      let hi = 200_000; // walk refuses
      expect(walkComplete('metrics', body(lo))).toBe(true);
      expect(walkComplete('metrics', body(hi))).toBe(false);
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (walkComplete('metrics', body(mid))) lo = mid;
        else hi = mid;
      }
      expect(same(body(lo), `${what}: ${lo}, the most the walk takes`), what).toBe(true);
      expect(same(body(hi), `${what}: ${hi}, one too many`), what).toBe(false);
    }
  });

  it('on the realistic bench load', () => {
    for (const body of metricRequests(9, 4, 40)) expect(same(body, 'bench load')).toBe(true);
  });

  it('on what the official OTLP exporter serialiser writes', async () => {
    const body = ProtobufMetricsSerializer.serializeRequest(await makeMetrics('svc-exporter'));
    expect(body).toBeDefined();
    expect(same(body!, 'exporter')).toBe(true);
  });

  it('partitions by service and by keys (through the decoded shape) with the same result', () => {
    const keyed = new Partitioner({
      granularity: 'hour',
      format: 'date=%Y-%m-%d/hour=%H',
      byService: true,
      keys: [{ type: 'hash', field: 'metric_name', name: '', datasets: ['metrics'], num_partitions: 4, default_label: 'other' }],
    });
    const byService = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: true });
    const body = metricRequests(3, 2, 20)[0]!;
    for (const p of [byService, keyed]) {
      const fast = convertMetricsWire(body, p, PROMOTED, RECEIVED);
      const slow = convertMetrics(decodeRequest('metrics', 'protobuf', body) as ExportMetricsServiceRequest, p, PROMOTED, RECEIVED);
      expect(fast.groups.length).toBeGreaterThan(p === keyed ? 1 : 0);
      expect(summary({ converted: fast })).toEqual(summary({ converted: slow }));
    }
  });
});
