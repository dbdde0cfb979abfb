/**
 * Issue 20: records a replay buffers as references only (`addSpilled`: never built, re-read
 * from the log when their partition flushes) count as buffered and spilled, flush in chunks
 * like spilled records, and wait out a failing partition's backoff rather than retrying it at
 * once. The store failure is injected (the flush function throws): no server fails on demand
 * between two calls.
 */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { BufferManager, PartialFlushError, type FlushBatch } from '../../src/pipeline/buffers.js';

const batchOf = (seq: number, rows: number): RecordBatch => tableFromArrays({ seq: Int32Array.from({ length: rows }, () => seq) }).batches[0]!;

function setup(fail: (b: FlushBatch) => boolean | FlushBatch) {
  const flushed: FlushBatch[] = [];
  const loads: number[] = [];
  const drained: number[] = [];
  let attempts = 0;
  const buffers = new BufferManager(
    { maxRows: 30, maxBytes: 1 << 30, maxAgeMs: 3_600_000 },
    async (b) => {
      attempts++;
      const failed = fail(b);
      if (failed === true) throw new Error('store down');
      if (failed !== false) {
        // Stored all but `failed`'s batches, then failed.
        flushed.push({ ...b, batches: b.batches.filter((x) => !failed.batches.includes(x)), rows: b.rows - failed.rows });
        throw new PartialFlushError(failed, { cause: new Error('store down'), stored: true });
      }
      flushed.push(b);
    },
    () => undefined,
    Date.now,
    undefined,
    {
      budgetBytes: 1000,
      chunkBytes: 1 << 30,
      load: async (seq) => {
        loads.push(seq);
        return batchOf(seq, 10);
      },
      onDrained: (_dataset, rows) => drained.push(rows),
    },
  );
  return { buffers, flushed, loads, drained, attempts: () => attempts };
}

describe('records buffered as references (a replay past the budget)', () => {
  it('count as buffered and spilled, are read back only when flushed, and flush in chunks of max_rows', async () => {
    const { buffers, flushed, loads, drained } = setup(() => false);
    for (let seq = 1; seq <= 2; seq++) buffers.addSpilled('traces', 'p', 10, 100, 0n, 0n, seq);
    expect([buffers.bufferedRows, buffers.bufferedBytes, buffers.spilledRows, buffers.spilledBytes]).toEqual([20, 0, 20, 200]);
    expect(loads).toEqual([]);
    for (let seq = 3; seq <= 6; seq++) buffers.addSpilled('traces', 'p', 10, 100, 0n, 0n, seq);
    await buffers.flushAll();
    expect(loads).toEqual([1, 2, 3, 4, 5, 6]);
    expect(flushed.map((b) => b.seqs)).toEqual([[1, 2, 3], [4, 5, 6]]);
    // The drain-rate counter: the re-read records, per stored chunk.
    expect(drained).toEqual([30, 30]);
    expect([buffers.bufferedRows, buffers.bufferedBytes, buffers.spilledRows, buffers.spilledBytes]).toEqual([0, 0, 0, 0]);
  });

  it('wait out a failing partition\'s backoff instead of flushing again at once', async () => {
    let down = true;
    const { buffers, flushed, drained, attempts } = setup(() => down);
    for (let seq = 1; seq <= 3; seq++) buffers.addSpilled('traces', 'p', 10, 100, 0n, 0n, seq);
    await buffers.idle();
    expect(attempts()).toBe(1);
    // More references for the failing partition, past max_rows: no new attempt before the backoff.
    for (let seq = 4; seq <= 9; seq++) buffers.addSpilled('traces', 'p', 10, 100, 0n, 0n, seq);
    await buffers.idle();
    expect(attempts()).toBe(1);
    expect(buffers.bufferedRows).toBe(90);
    expect(drained).toEqual([]); // read back, but not stored: not drained

    down = false;
    await buffers.flushAll('retry');
    expect(flushed.reduce((n, b) => n + b.rows, 0)).toBe(90);
    expect(buffers.bufferedRows).toBe(0);
    expect(drained.reduce((n, r) => n + r, 0)).toBe(90);
  });

  it('count as drained when a partly stored flush stored them, and the rest when it is stored later', async () => {
    let round = 0;
    const { buffers, flushed, drained } = setup((b) => {
      if (round++ > 0) return false;
      // The first file (seq 1's 10 rows) stored; seqs 2 and 3's rows remain, in memory.
      return { ...b, batches: b.batches.slice(1), rows: 20, bytes: 200 };
    });
    for (let seq = 1; seq <= 3; seq++) buffers.addSpilled('traces', 'p', 10, 100, 0n, 0n, seq);
    await buffers.flushAll();
    expect(flushed.reduce((n, b) => n + b.rows, 0)).toBe(10);
    expect(drained).toEqual([10]);
    expect(buffers.bufferedRows).toBe(20);
    await buffers.flushAll('retry');
    expect(flushed.reduce((n, b) => n + b.rows, 0)).toBe(30);
    // Every re-read record counted once: the resident rest when its flush stored it.
    expect(drained).toEqual([10, 20]);
    expect(buffers.bufferedRows).toBe(0);
  });
});
