/** sortBatches: every row survives with every nested value, in trace_id order, nulls included. */
import { describe, expect, it } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import { decodeTraces } from '../../src/otlp/decode.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = ['http.response.status_code'].map(parsePromoted);

function batchOf(spans: Record<string, unknown>[]): RecordBatch {
  const req = decodeTraces('json', Buffer.from(JSON.stringify(jsonTraceRequest(spans))));
  const [group] = convertTraces(req, partitioner, promoted).groups;
  return group!.batch;
}

function rows(batch: RecordBatch): string[] {
  return batch.toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}

describe('sortBatches', () => {
  it('orders rows of several batches (one of them sliced) by trace_id and keeps every value', () => {
    const span = (trace: number, i: number) => ({
      ...jsonSpan({
        traceId: hexId(16, trace),
        startNs: T0_NS + BigInt(i),
        name: `s${i}`,
        attributes: i % 2 ? [{ key: 'http.response.status_code', value: { intValue: 200 + i } }, { key: 'k', value: { stringValue: `v${i}` } }] : [],
        ...(i % 3 === 0 ? { parentSpanId: hexId(8, 1000 + i) } : {}),
      }),
      events: Array.from({ length: i % 3 }, (_, e) => ({ timeUnixNano: (T0_NS + BigInt(e)).toString(), name: `e${e}`, attributes: [{ key: 'n', value: { intValue: e } }] })),
      links: i % 4 === 0 ? [{ traceId: hexId(16, 77), spanId: hexId(8, 78), attributes: [] }] : [],
    });
    const a = batchOf([9, 3, 7, 3, 1].map((t, i) => span(t, i)));
    const b = batchOf([5, 2, 8, 2, 6, 4].map((t, i) => span(t, 10 + i))).slice(1, 4); // traces 2, 8, 2
    const sorted = sortBatches([a, b], 'trace_id');
    expect(sorted.numRows).toBe(a.numRows + b.numRows);
    const ids = sorted.getChild('trace_id')!.toArray() as string[];
    expect([...ids]).toEqual([...ids].sort());
    // The same multiset of complete rows, each row intact.
    expect(rows(sorted).sort()).toEqual([...rows(a), ...rows(b)].sort());
    // Stable: equal trace ids keep their arrival order.
    const names = sorted.toArray().filter((r) => r.trace_id === hexId(16, 3)).map((r) => r.name);
    expect(names).toEqual(['s1', 's3']);
  });
});
