/**
 * Issue 19: a request's batch keeps its arrays in one slab (schema/batch-memory.ts), which the
 * partition buffers give back once the batch is stored, for the next requests' batches. A batch
 * built in a reused slab — one that held other bytes — has the same bytes as the first build; the
 * released batch's arrays are detached (a stray view reads empty, never another batch's rows);
 * only a stored batch held whole is given back (not after a failed flush, not a spilled part);
 * the pool keeps at most its limit and lets go when idle.
 */
import { tableFromArrays, tableToIPC, Table, type RecordBatch } from 'apache-arrow';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeRequest, decodeTraces } from '../../src/otlp/decode.js';
import { BufferManager, type FlushBatch } from '../../src/pipeline/buffers.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import type { PartitionGroup } from '../../src/pipeline/converted.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { DEFAULT_POOL_LIMIT, pooledBatchMemoryBytes, releaseBatchMemory, setBatchMemoryPoolLimit, slabSize } from '../../src/schema/batch-memory.js';
import { KEPT_MEMORY_IDLE_MS } from '../../src/runtime/idle-release.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { traceRequests } from '../../bench/load/traces.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = ['http.response.status_code'].map(parsePromoted);
const [benchRequest] = traceRequests(5, 1, 512);

const dense = (): PartitionGroup => convertTraces(decodeRequest('traces', 'protobuf', benchRequest!) as never, partitioner, promoted).groups[0]!;

/** Spans whose optional columns are mostly null: validity bitmaps with zeros. One body, decoded each time. */
const sparseBody = Buffer.from(
  JSON.stringify(jsonTraceRequest(Array.from({ length: 2000 }, (_, i) => jsonSpan({ traceId: hexId(16, (i * 7919) % 97), startNs: T0_NS + BigInt(i), name: `s${i}`, ...(i % 5 === 0 ? { parentSpanId: hexId(8, 5000 + i) } : {}) })))),
);
const sparse = (): PartitionGroup => convertTraces(decodeTraces('json', sparseBody), partitioner, promoted).groups[0]!;

const ipc = (b: RecordBatch): Buffer => Buffer.from(tableToIPC(new Table([b]), 'stream'));
const spanIds = (b: RecordBatch): Uint8Array => b.getChild('span_id')!.data[0]!.values as Uint8Array;

// Fake timers from the start: the pool's idle release arms its timer at the first release.
beforeAll(() => void vi.useFakeTimers());
afterAll(() => void vi.useRealTimers());

/** Empties the pool (a limit of 0 drops what it holds), then restores the default limit. */
function emptyPool(): void {
  setBatchMemoryPoolLimit(0);
  setBatchMemoryPoolLimit(DEFAULT_POOL_LIMIT);
}

afterEach(emptyPool);

describe('batch memory', () => {
  it('builds a batch in a reused slab that held other bytes to the same bytes, and detaches the released one', () => {
    for (const build of [dense, sparse]) {
      const first = build();
      expect(first.memory, 'a request this large gets a slab').toBeInstanceOf(ArrayBuffer);
      // Every array the batch keeps lives in that slab.
      expect(spanIds(first.batch).buffer).toBe(first.memory);
      const want = ipc(first.batch);
      const size = first.memory!.byteLength;
      expect(size).toBe(slabSize(size));
      // Dirty it, as an earlier batch would have left it, then give it back.
      new Uint8Array(first.memory!).fill(0xa5);
      releaseBatchMemory(first.memory!);
      expect(pooledBatchMemoryBytes()).toBe(size);
      expect(spanIds(first.batch).length, 'a released batch reads empty').toBe(0);
      const second = build();
      expect(pooledBatchMemoryBytes(), 'the next batch of that size takes the pooled slab').toBe(0);
      expect(second.memory!.byteLength).toBe(size);
      expect(ipc(second.batch).equals(want)).toBe(true);
      releaseBatchMemory(second.memory!);
      emptyPool();
    }
  });

  it('keeps at most its limit, ignores a slab released twice', () => {
    const a = dense();
    const b = dense();
    const size = a.memory!.byteLength;
    setBatchMemoryPoolLimit(size);
    releaseBatchMemory(a.memory!);
    releaseBatchMemory(a.memory!); // detached now: nothing more
    releaseBatchMemory(b.memory!); // over the limit: left to the garbage collector
    expect(pooledBatchMemoryBytes()).toBe(size);
  });

  it('sizes slabs at most a sixteenth above the need', () => {
    for (const n of [20_000, 65_536, 65_537, 300_000, 1_234_567, 16_000_000]) {
      const s = slabSize(n);
      expect(s).toBeGreaterThanOrEqual(n);
      expect(s).toBeLessThanOrEqual(n * (1 + 1 / 16));
    }
  });

  it('lets the pooled slabs go when idle', () => {
    releaseBatchMemory(dense().memory!);
    expect(pooledBatchMemoryBytes()).toBeGreaterThan(0);
    vi.advanceTimersByTime(KEPT_MEMORY_IDLE_MS - 1000);
    expect(pooledBatchMemoryBytes()).toBeGreaterThan(0);
    vi.advanceTimersByTime(2000);
    expect(pooledBatchMemoryBytes()).toBe(0);
  });
});

describe('the partition buffers give a slab back', () => {
  function manager(fail: () => boolean): { buffers: BufferManager; flushed: FlushBatch[] } {
    const flushed: FlushBatch[] = [];
    const buffers = new BufferManager(
      { maxRows: 1 << 30, maxBytes: 1 << 30, maxAgeMs: 3_600_000 },
      async (b) => {
        if (fail()) throw new Error('store down');
        flushed.push(b);
      },
      () => undefined,
    );
    return { buffers, flushed };
  }

  it('once the batch is stored, not after a failed flush', async () => {
    let down = true;
    const { buffers, flushed } = manager(() => down);
    const g = dense();
    const size = g.memory!.byteLength;
    buffers.add('traces', g.partition, g.batch, g.bytes, g.minTime, g.maxTime, undefined, g.memory);
    await buffers.flushAll();
    expect(flushed).toHaveLength(0);
    expect(pooledBatchMemoryBytes(), 'a failed flush keeps the batch, and its memory').toBe(0);
    expect(spanIds(g.batch).length).toBeGreaterThan(0);
    down = false;
    await buffers.flushAll();
    expect(flushed).toHaveLength(1);
    expect(pooledBatchMemoryBytes()).toBe(size);
    expect(spanIds(g.batch).length).toBe(0);
  });

  it('not for a part that spilled to the log (its batch and slab are left to the collector)', async () => {
    const flushed: FlushBatch[] = [];
    const g = dense();
    const buffers = new BufferManager(
      { maxRows: 1 << 30, maxBytes: 1 << 30, maxAgeMs: 3_600_000 },
      async (b) => void flushed.push(b),
      () => undefined,
      Date.now,
      undefined,
      { budgetBytes: 1, chunkBytes: 1 << 30, load: async () => tableFromArrays({ x: Int32Array.of(1) }).batches[0]! },
    );
    buffers.add('traces', g.partition, g.batch, g.bytes, g.minTime, g.maxTime, 7, g.memory);
    buffers.add('traces', g.partition, tableFromArrays({ x: Int32Array.of(2) }).batches[0]!, 4, 0n, 0n, 8);
    expect(buffers.spilledRows, 'both parts spilled (a budget of 1 byte)').toBe(g.batch.numRows + 1);
    await buffers.flushAll();
    expect(flushed).toHaveLength(1);
    expect(pooledBatchMemoryBytes()).toBe(0);
    expect(spanIds(g.batch).length, 'never detached: nobody gave it back').toBeGreaterThan(0);
  });
});
