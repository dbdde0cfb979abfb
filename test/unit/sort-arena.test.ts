/**
 * Issue 19, fresh memory on the flush side: the sort's output arrays come from an arena reused
 * between flushes (sort-arena.ts). Sorting in it gives the same rows as sorting without it, its
 * reused memory reads as zeros where the sort expects new arrays (validity bitmaps are OR-ed
 * into), the next flush writes the same blocks, and the blocks are let go when idle.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tableToIPC, Table, type RecordBatch } from 'apache-arrow';
import { decodeRequest, decodeTraces } from '../../src/otlp/decode.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { sortArenaBytes, sortArray, withSortArena } from '../../src/pipeline/sort-arena.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { KEPT_MEMORY_IDLE_MS } from '../../src/runtime/idle-release.js';
import { traceRequests } from '../../bench/load/traces.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = ['http.response.status_code'].map(parsePromoted);

function benchBatches(requests: number, seed: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (const p of traceRequests(seed, requests, 256)) for (const g of convertTraces(decodeRequest('traces', 'protobuf', p) as never, partitioner, promoted).groups) out.push(g.batch);
  return out;
}

/** Spans whose optional columns are mostly null (no parent, no attributes): validity bitmaps with zeros. */
function sparseBatch(): RecordBatch {
  const spans = Array.from({ length: 300 }, (_, i) => jsonSpan({ traceId: hexId(16, (i * 7919) % 97), startNs: T0_NS + BigInt(i), name: `s${i}`, ...(i % 5 === 0 ? { parentSpanId: hexId(8, 5000 + i) } : {}) }));
  const [group] = convertTraces(decodeTraces('json', Buffer.from(JSON.stringify(jsonTraceRequest(spans)))), partitioner, promoted).groups;
  return group!.batch;
}

const ipc = (b: RecordBatch): Buffer => Buffer.from(tableToIPC(new Table([b]), 'stream'));
const blockOf = (b: RecordBatch): ArrayBufferLike => (b.getChild('span_id')!.data[0]!.values as Uint8Array).buffer;

describe('the sort arena', () => {
  beforeAll(() => void vi.useFakeTimers());
  afterAll(() => void vi.useRealTimers());

  it('sorts to the same bytes as new arrays, and the next flush reuses its memory', () => {
    const dense = benchBatches(6, 11);
    const sparse = [sparseBatch()];
    const want = [ipc(sortBatches(dense, ['trace_id'])), ipc(sortBatches(sparse, ['trace_id']))];
    // Dense rows first: the arena's memory then holds set bits and non-zero bytes everywhere…
    const a = withSortArena(() => sortBatches(dense, ['trace_id']));
    expect(ipc(a).equals(want[0]!)).toBe(true);
    const used = sortArenaBytes();
    expect(used).toBeGreaterThan(0);
    // …which the sparse flush must not see (its validity bitmaps are OR-ed into new memory).
    const b = withSortArena(() => sortBatches(sparse, ['trace_id']));
    expect(ipc(b).equals(want[1]!)).toBe(true);
    expect(blockOf(b) === blockOf(a)).toBe(true); // the same block, written again
    expect(sortArenaBytes()).toBe(used);
    // And back: the dense flush again, in the same memory, still exact.
    const c = withSortArena(() => sortBatches(dense, ['trace_id']));
    expect(ipc(c).equals(want[0]!)).toBe(true);
    expect(blockOf(c) === blockOf(a)).toBe(true);
  });

  it('allocates new arrays outside withSortArena, and lets its blocks go when no flush comes', () => {
    withSortArena(() => sortArray(Uint8Array, 16));
    expect(sortArenaBytes()).toBeGreaterThan(0);
    const outside = sortArray(Int32Array, 4);
    expect(outside.buffer.byteLength).toBe(16); // its own buffer, not a view of a block
    vi.advanceTimersByTime(KEPT_MEMORY_IDLE_MS - 1);
    expect(sortArenaBytes()).toBeGreaterThan(0);
    vi.advanceTimersByTime(1);
    expect(sortArenaBytes()).toBe(0);
  });

  it('aligns every array to 8 bytes and zeroes reused memory', () => {
    withSortArena(() => sortArray(Uint8Array, 1000).fill(255));
    const [bytes, words, big] = withSortArena(() => [sortArray(Uint8Array, 3), sortArray(Float64Array, 5), sortArray(BigInt64Array, 2)] as const);
    expect(words.byteOffset % 8).toBe(0);
    expect(big.byteOffset % 8).toBe(0);
    expect(words.buffer === bytes.buffer).toBe(true);
    expect([...bytes, ...words]).toEqual(new Array(8).fill(0));
    expect([...big]).toEqual([0n, 0n]);
  });
});
