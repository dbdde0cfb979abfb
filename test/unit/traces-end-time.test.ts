/**
 * Traces schema version 3 stores no `end_time`: readers derive it as `start_time + duration_ns`
 * (src/schema/derived.ts). This pins that the derivation gives back exactly the end time the
 * writer would have stored, for every value it can store — times at and beyond 2^32, 2^53 and
 * 2^63 (clamped), end before start, an unset end (0) — on both writers: the one-pass decoder's
 * 32-bit words with a borrow, and the protobufjs path's bigints (protobuf and OTLP/JSON bodies).
 */
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/otlp/decode.js';
import type { ExportTraceServiceRequest } from '../../src/otlp/types.js';
import { unixNanoToBigInt } from '../../src/otlp/values.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { convertTracesWire } from '../../src/pipeline/convert-traces-wire.js';
import type { ConvertedRequest } from '../../src/pipeline/converted.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { int64Sum } from '../../src/schema/derived.js';
import { TRACES_DERIVED, TRACES_SCHEMA_VERSION } from '../../src/schema/traces.js';
import { ld, Rng, varint } from '../fuzz/mutate.js';
import { hexId } from '../helpers/otlp.js';

const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const INT64_MAX = 2n ** 63n - 1n;
const clamp = (v: bigint): bigint => (v > INT64_MAX ? INT64_MAX : v);

/** span_id → start_time + duration_ns (derived), for every row of every group. */
function derivedEnds(c: ConvertedRequest): Map<string, { start: bigint; end: bigint }> {
  const out = new Map<string, { start: bigint; end: bigint }>();
  for (const g of c.groups) {
    const batch = g.batch as RecordBatch;
    expect(batch.schema.fields.map((f) => f.name)).not.toContain('end_time');
    const ids = batch.getChild('span_id')!;
    // The raw int64 words (apache-arrow's `get` gives a timestamp as a number of ms).
    const starts = batch.getChild('start_time')!.data[0]!.values as BigInt64Array;
    const durations = batch.getChild('duration_ns')!.data[0]!.values as BigInt64Array;
    for (let i = 0; i < batch.numRows; i++) {
      out.set(ids.get(i) as string, { start: starts[i]!, end: int64Sum(starts[i]!, durations[i]!) });
    }
  }
  return out;
}

const fixed64 = (field: number, v: bigint): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return Buffer.concat([varint((field << 3) | 1), b]);
};

describe('traces schema version 3: end_time = start_time + duration_ns', () => {
  it('is version 3 and derives end_time from the two columns it keeps', () => {
    expect(TRACES_SCHEMA_VERSION).toBe(3);
    expect(TRACES_DERIVED).toEqual([{ name: 'end_time', after: 'start_time', sum: ['start_time', 'duration_ns'] }]);
  });

  it('gives back the end time exactly for every pair of stored times, on both writers', () => {
    const t0 = 1704067500000000000n;
    const times = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, t0, t0 + 999n, t0 + 4294967295n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
    const rng = new Rng(0xe17d);
    for (let i = 0; i < 20; i++) times.push(BigInt(rng.int(0, 2 ** 31)) * 2n ** 32n + BigInt(rng.int(0, 2 ** 32)));
    const spans: Uint8Array[] = [];
    const want = new Map<string, { start: bigint; end: bigint }>();
    let n = 0;
    for (const start of times) {
      for (const end of [...times, null]) {
        const spanId = hexId(8, ++n);
        const ids = Buffer.concat([ld(1, Buffer.from(hexId(16, 7), 'hex')), ld(2, Buffer.from(spanId, 'hex'))]);
        // null: no end time on the wire (0, the unset value).
        spans.push(ld(2, Buffer.concat([ids, fixed64(7, start), ...(end === null ? [] : [fixed64(8, end)])])));
        want.set(spanId, { start: clamp(start), end: clamp(end ?? 0n) });
      }
    }
    const body = ld(1, ld(2, Buffer.concat(spans)));
    const converted = convertTracesWire(body, partitioner, []);
    const wire = derivedEnds(converted);
    const objects = derivedEnds(convertTraces(decodeRequest('traces', 'protobuf', body) as ExportTraceServiceRequest, partitioner, []));
    // Spans that start at the clamp (2262) have no partition and are refused; every other is stored.
    expect(wire.size).toBe(converted.accepted);
    expect(wire.size).toBeGreaterThan(want.size * 0.9);
    for (const [id, got] of wire) expect(got, id).toEqual(want.get(id));
    expect(objects).toEqual(wire);
  });

  it('gives back what the OTLP/JSON decoder read, for numbers and strings at the edges', () => {
    const values: (string | number)[] = ['0', '1', '1704067500123456789', '9223372036854775807', '9223372036854775808', '18446744073709551615', 0, 1704067500123, 2 ** 53 - 1];
    const spans = [];
    let n = 0;
    for (const start of values) for (const end of values) spans.push({ traceId: hexId(16, 9), spanId: hexId(8, ++n), name: 's', startTimeUnixNano: start, endTimeUnixNano: end });
    const body = Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    const request = decodeRequest('traces', 'json', body) as ExportTraceServiceRequest;
    const want = new Map<string, { start: bigint; end: bigint }>();
    for (const s of request.resourceSpans[0]!.scopeSpans[0]!.spans) {
      want.set(Buffer.from(s.spanId).toString('hex'), { start: unixNanoToBigInt(s.startTimeUnixNano), end: unixNanoToBigInt(s.endTimeUnixNano) });
    }
    expect(want.size).toBe(values.length ** 2);
    const converted = convertTraces(request, partitioner, []);
    const got = derivedEnds(converted);
    expect(got.size).toBe(converted.accepted);
    expect(got.size).toBeGreaterThan(want.size / 2);
    for (const [id, v] of got) expect(v, id).toEqual(want.get(id));
  });
});
