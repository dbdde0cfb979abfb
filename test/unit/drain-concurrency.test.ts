/**
 * Issue 20: a partition's flush with several chunks in flight (`chunksInFlight`). The next chunk
 * is taken (oldest first) while the previous one is being stored; a failure stops the taking of
 * more; and the prior flushes of a partly stored chunk stay with the records they name, so the
 * flush that commits them holds all of those records (what keeps a crash from losing them).
 * Store failures are injected (the flush function throws): no server fails on demand between
 * two calls.
 */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { BufferManager, PartialFlushError, type FlushBatch } from '../../src/pipeline/buffers.js';

const batchOf = (seq: number, rows: number): RecordBatch => tableFromArrays({ seq: Int32Array.from({ length: rows }, () => seq) }).batches[0]!;

/** The seq of every row of a flush, in order. */
const rowSeqs = (b: FlushBatch): number[] => b.batches.flatMap((x) => Array.from(x.getChild('seq')!.toArray() as Int32Array));

interface Gate {
  promise: Promise<void>;
  open: () => void;
}
const gate = (): Gate => {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
};

const fill = (buffers: BufferManager, from: number, to: number): void => {
  for (let seq = from; seq <= to; seq++) buffers.addSpilled('traces', 'p', 10, 100, 0n, 0n, seq);
};

/** Spilled requests of 10 rows, 100 bytes each; a chunk is 300 bytes (three requests). */
function setup(chunksInFlight: number, flush: (b: FlushBatch) => Promise<void>) {
  const buffers = new BufferManager(
    { maxRows: 1000, maxBytes: 1 << 30, maxAgeMs: 3_600_000, chunksInFlight },
    flush,
    () => undefined,
    Date.now,
    undefined,
    { budgetBytes: 1000, chunkBytes: 300, load: async (seq) => batchOf(seq, 10) },
  );
  // Far below max_rows and max_bytes: nothing flushes before the test asks.
  fill(buffers, 1, 2);
  return buffers;
}


describe('a partition flushed with chunks in flight', () => {
  it('with 2, takes the next chunk (in order) while the first is being stored; with 1, only after', async () => {
    for (const width of [1, 2]) {
      const started: number[][] = [];
      const first = gate();
      const buffers = setup(width, async (b) => {
        started.push([...b.seqs]);
        if (b.seqs[0] === 1) await first.promise;
      });
      fill(buffers, 3, 6);
      const done = buffers.flushAll();
      // Let the loads and the first store call run.
      for (let i = 0; i < 20 && started.length < width; i++) await new Promise((r) => setImmediate(r));
      expect(started).toEqual(width === 2 ? [[1, 2, 3], [4, 5, 6]] : [[1, 2, 3]]);
      first.open();
      await done;
      expect(started).toEqual([[1, 2, 3], [4, 5, 6]]);
      expect([buffers.bufferedRows, buffers.bufferedBytes, buffers.spilledRows, buffers.partitionCount]).toEqual([0, 0, 0, 0]);
    }
  });

  it('never takes more than `chunksInFlight` chunks at once, and stores every row once', async () => {
    let inFlight = 0;
    let most = 0;
    const stored: number[] = [];
    const buffers = setup(2, async (b) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      stored.push(...rowSeqs(b));
      inFlight--;
    });
    fill(buffers, 3, 20);
    await buffers.flushAll();
    expect(most).toBe(2);
    expect(stored.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => Math.floor(i / 10) + 1));
  });

  it('stops taking chunks after a failure; every chunk that failed comes back and is stored once', async () => {
    let down = true;
    const stored: number[] = [];
    const attempts: number[][] = [];
    const buffers = setup(2, async (b) => {
      attempts.push([...b.seqs]);
      await new Promise((r) => setTimeout(r, 5));
      if (down) throw new Error('store down');
      stored.push(...rowSeqs(b));
    });
    fill(buffers, 3, 12); // four chunks
    await buffers.flushAll();
    // The first two were in flight together and both failed; the other two were never taken.
    expect(attempts).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(buffers.bufferedRows).toBe(120);
    expect(buffers.partitionCount).toBe(1);
    down = false;
    await buffers.flushAll('retry');
    expect(stored.sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => Math.floor(i / 10) + 1));
    expect([buffers.bufferedRows, buffers.bufferedBytes, buffers.spilledRows]).toEqual([0, 0, 0]);
  });

  it('keeps a partly stored chunk\'s prior flush with its own records, when the chunk beside it fails too', async () => {
    let round = 0;
    const flushes: FlushBatch[] = [];
    const buffers = setup(2, async (b) => {
      flushes.push(b);
      await new Promise((r) => setTimeout(r, b.seqs[0] === 1 ? 1 : 10));
      if (round > 0) return;
      if (b.seqs[0] === 1) {
        // Stored the file with the rows of seq 1 (prior flush 77), then failed: seqs 2 and 3's rows remain.
        const rest = b.batches.slice(1);
        throw new PartialFlushError({ ...b, batches: rest, rows: 20, bytes: 200, priorFlushes: [77] }, { cause: new Error('store down'), stored: true });
      }
      throw new Error('store down');
    });
    fill(buffers, 3, 6);
    await buffers.flushAll();
    expect(flushes.map((f) => [f.seqs, f.priorFlushes])).toEqual([[[1, 2, 3], []], [[4, 5, 6], []]]);
    round = 1;
    flushes.length = 0;
    await buffers.flushAll('retry');
    // The flush that commits prior flush 77 holds the rest of its chunk (seqs 2 and 3's rows),
    // and it is the only one that carries it.
    const withPrior = flushes.filter((f) => f.priorFlushes.includes(77));
    expect(withPrior).toHaveLength(1);
    expect(withPrior[0]!.priorFlushes).toEqual([77]);
    expect(rowSeqs(withPrior[0]!).filter((s) => s === 2 || s === 3)).toHaveLength(20);
    expect(flushes.flatMap(rowSeqs).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => Math.floor(i / 10) + 2));
    expect(buffers.bufferedRows).toBe(0);
  });
});
