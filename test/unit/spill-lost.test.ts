/**
 * Issue 20: a spilled part that can never come back (its write-ahead-log entry damaged, deleted,
 * or no longer yielding the partition's records) is handed to `spill.lost` once — a dead letter —
 * and the partition's other records flush; it is not retried forever. The damage is injected
 * (`load` throws the `SpillLostError` the pipeline's loader throws for such an entry: no server
 * produces one on demand); a read error that may pass (EIO) is still retried.
 */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { BufferManager, SpillLostError, type FlushBatch } from '../../src/pipeline/buffers.js';

const batchOf = (seq: number, rows: number): RecordBatch => tableFromArrays({ seq: Int32Array.from({ length: rows }, () => seq) }).batches[0]!;

function setup(load: (seq: number) => Promise<RecordBatch>) {
  const flushed: FlushBatch[] = [];
  const lost: { seq: number; rows: number; message: string }[] = [];
  const errors: unknown[] = [];
  const buffers = new BufferManager(
    { maxRows: 1000, maxBytes: 1 << 30, maxAgeMs: 60_000 },
    async (b) => {
      flushed.push(b);
    },
    (err) => errors.push(err),
    Date.now,
    undefined,
    {
      budgetBytes: 150,
      chunkBytes: 1 << 30,
      load: (seq) => load(seq),
      lost: async (seq, _dataset, _partition, rows, err) => {
        lost.push({ seq, rows, message: err.message });
      },
    },
  );
  // Four requests of 10 rows, 100 bytes each: over the 150-byte budget the oldest spill.
  for (let seq = 1; seq <= 4; seq++) buffers.add('traces', 'p', batchOf(seq, 10), 100, 0n, 0n, seq);
  return { buffers, flushed, lost, errors };
}

describe('a spilled entry that no longer yields records', () => {
  it('is dead-lettered once, and the partition flushes its other records', async () => {
    const { buffers, flushed, lost, errors } = setup(async (seq) => {
      if (seq === 2) throw new SpillLostError('write-ahead log entry 2 cannot be read back: checksum mismatch', undefined);
      return batchOf(seq, 10);
    });
    expect(buffers.spilledRows).toBeGreaterThanOrEqual(20);
    await buffers.flushAll();
    expect(lost).toEqual([{ seq: 2, rows: 10, message: 'write-ahead log entry 2 cannot be read back: checksum mismatch' }]);
    expect(errors).toEqual([]);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.rows).toBe(30);
    expect(flushed[0]!.seqs).toEqual([1, 3, 4]);
    expect(flushed[0]!.batches.flatMap((b) => [...b.getChild('seq')!.toArray()])).toEqual([...Array(10).fill(1), ...Array(10).fill(3), ...Array(10).fill(4)]);
    expect([buffers.bufferedRows, buffers.bufferedBytes, buffers.spilledRows, buffers.spilledBytes, buffers.partitionCount]).toEqual([0, 0, 0, 0, 0]);
    // Nothing is left to retry: another flush finds no work.
    await buffers.flushAll();
    expect(lost).toHaveLength(1);
    expect(flushed).toHaveLength(1);
  });

  it('keeps retrying a read error that may pass (not a lost entry)', async () => {
    let failing = true;
    const { buffers, flushed, lost, errors } = setup(async (seq) => {
      if (seq === 2 && failing) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      return batchOf(seq, 10);
    });
    await buffers.flushAll();
    expect(lost).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(flushed).toEqual([]);
    expect(buffers.bufferedRows).toBe(40);
    failing = false;
    await buffers.flushAll('retry');
    expect(flushed.reduce((n, b) => n + b.rows, 0)).toBe(40);
    expect(buffers.bufferedRows).toBe(0);
  });
});
