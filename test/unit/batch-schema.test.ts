/**
 * One Arrow schema per batch shape: batches of one dataset, built by separate builders (one per
 * request), carry the same type objects, and the flush sort keeps them — so apache-arrow's code
 * and the sort meet the same objects every flush (bench/NOTES.md, the JIT census).
 */
import { describe, expect, it } from 'vitest';
import type { DataType, Field, RecordBatch } from 'apache-arrow';
import { decodeTraces } from '../../src/otlp/decode.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = ['http.response.status_code'].map(parsePromoted);

function batchOf(trace: number): RecordBatch {
  const spans = [0, 1, 2].map((i) => ({
    ...jsonSpan({ traceId: hexId(16, trace), startNs: T0_NS + BigInt(i), name: `s${i}` }),
    events: [{ timeUnixNano: T0_NS.toString(), name: 'e', attributes: [] }],
  }));
  const req = decodeTraces('json', Buffer.from(JSON.stringify(jsonTraceRequest(spans))));
  return convertTraces(req, partitioner, promoted).groups[0]!.batch;
}

/** Every type object of a field tree, depth first. */
function types(fields: readonly Field[]): DataType[] {
  return fields.flatMap((f) => [f.type as DataType, ...types((f.type.children ?? []) as Field[])]);
}

describe('batch schemas', () => {
  it('are made of the same type objects for every batch of a dataset, and the sorted batch keeps them', () => {
    const a = batchOf(1);
    const b = batchOf(2);
    expect(a.schema.fields.map((f) => f.name)).toEqual(b.schema.fields.map((f) => f.name));
    const ta = types(a.schema.fields);
    const tb = types(b.schema.fields);
    expect(ta.length).toBeGreaterThan(a.schema.fields.length); // nested types are compared too
    ta.forEach((t, i) => expect(tb[i]).toBe(t));
    // The Data carry the schema's types, nested children included.
    a.data.children.forEach((d, i) => expect(d.type).toBe(a.schema.fields[i]!.type));
    const sorted = sortBatches([b, a], 'trace_id');
    types(sorted.schema.fields).forEach((t, i) => expect(t).toBe(ta[i]));
    sorted.data.children.forEach((d, i) => expect(d.type).toBe(a.schema.fields[i]!.type));
    expect(sorted.numRows).toBe(6);
  });
});
