/**
 * Issue 19, garbage on the decode side: column builders borrow their growable buffers from a
 * per-thread pool and give them back at `finish`. What a batch keeps must never be a buffer the
 * pool lends again (a later request would overwrite an earlier batch still waiting in a
 * partition buffer), a buffer is never lent twice at once, stale bytes of an earlier request
 * never show through, and the pool stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { tableToIPC, Table, RecordBatch, Schema, Field, Struct, makeData } from 'apache-arrow';
import { borrowArray, borrowBuffer, MAX_POOLED_BYTES, pooledBufferBytes, returnBuffer, settle } from '../../src/schema/buffer-pool.js';
import { Int32Builder, Int64Builder, StringMapBuilder, Utf8Builder, type ColumnBuilder } from '../../src/schema/columns.js';

/** One batch of `rows` rows from fresh builders (growing from 4 rows), values depending on `seed`. */
function build(rows: number, seed: number): RecordBatch {
  const cols: [string, ColumnBuilder][] = [['s', new Utf8Builder(4)], ['i', new Int32Builder(4)], ['t', new Int64Builder(4)], ['m', new StringMapBuilder(4)]];
  const [s, i, t, m] = cols.map(([, b]) => b) as [Utf8Builder, Int32Builder, Int64Builder, StringMapBuilder];
  for (let r = 0; r < rows; r++) {
    if ((r + seed) % 7 === 0) s.append(null);
    else s.append(`${seed}-${r}-${'x'.repeat((r * seed) % 50)}`);
    i.append(seed * 1000 + r);
    t.appendWords(r + seed, seed);
    for (let e = 0; e < (r + seed) % 3; e++) m.entry(`k${e}`, `${seed}/${r}/${e}`);
    m.endRow();
  }
  const fields = cols.map(([name, b]) => new Field(name, b.type, true));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: cols.map(([, b]) => b.finish()) }));
}

const bytes = (b: RecordBatch) => Buffer.from(tableToIPC(new Table([b]), 'stream'));

describe('builders over pooled buffers', () => {
  it('leave every finished batch untouched while later batches reuse the buffers', () => {
    // Reference values: each batch built alone, its IPC taken at once.
    const sizes = [3, 700, 5000, 64, 2500, 1, 9000, 300];
    const reference = sizes.map((n, k) => bytes(build(n, k + 1)));
    // Now all batches kept alive together, built one after the other through the pool.
    const kept = sizes.map((n, k) => build(n, k + 1));
    kept.forEach((b, k) => expect(bytes(b).equals(reference[k]!)).toBe(true));
    // And after yet more building on top of them.
    for (let k = 0; k < 5; k++) build(6000, 100 + k);
    kept.forEach((b, k) => expect(bytes(b).equals(reference[k]!)).toBe(true));
  });

  it('never shows an earlier request\'s bytes: offsets start at zero, values are all written', () => {
    build(4000, 9); // dirty the pool
    const b = build(10, 3);
    const s = b.getChild('s')!;
    expect(s.data[0]!.valueOffsets[0]).toBe(0);
    expect(b.getChild('m')!.data[0]!.valueOffsets[0]).toBe(0);
    expect([...Array(10).keys()].map((r) => s.get(r))).toEqual([...Array(10).keys()].map((r) => ((r + 3) % 7 === 0 ? null : `3-${r}-${'x'.repeat((r * 3) % 50)}`)));
    expect(b.getChild('i')!.toArray()).toEqual(Int32Array.from([...Array(10).keys()].map((r) => 3000 + r)));
    expect([...b.getChild('t')!.toArray()]).toEqual([...Array(10).keys()].map((r) => (3n << 32n) + BigInt(r + 3)));
  });
});

describe('the pool', () => {
  it('lends a buffer to one borrower at a time and takes back only what it lent, once', () => {
    const a = borrowBuffer(5000);
    expect(a.byteLength).toBe(8192);
    returnBuffer(a);
    returnBuffer(a); // twice: ignored
    const b = borrowBuffer(6000);
    expect(b).toBe(a);
    const c = borrowBuffer(6000);
    expect(c).not.toBe(a); // the only pooled one is lent
    returnBuffer(new ArrayBuffer(8192)); // never lent: ignored
    expect(borrowBuffer(8000)).not.toBe(a);
    returnBuffer(b);
    returnBuffer(c);
  });

  it('keeps a nearly full array for the batch (never lent again) and copies a sparse one', () => {
    const full = borrowArray(Int32Array, 1000); // 4 KiB: 1,024 elements
    const kept = settle(full, 1000);
    expect(kept.buffer).toBe(full.buffer);
    returnBuffer(full.buffer); // the batch owns it now: ignored
    expect(borrowArray(Int32Array, 1000).buffer).not.toBe(full.buffer);
    const sparse = borrowArray(Int32Array, 1000);
    sparse.fill(7);
    const copy = settle(sparse, 10);
    expect(copy.buffer).not.toBe(sparse.buffer);
    expect([...copy]).toEqual(Array(10).fill(7));
    expect(borrowArray(Int32Array, 1000).buffer).toBe(sparse.buffer); // given back by settle
  });

  it('keeps at most MAX_POOLED_BYTES', () => {
    const lent = Array.from({ length: 40 }, () => borrowBuffer(1 << 20));
    for (const b of lent) returnBuffer(b);
    expect(pooledBufferBytes()).toBeLessThanOrEqual(MAX_POOLED_BYTES);
    expect(pooledBufferBytes()).toBeGreaterThanOrEqual(MAX_POOLED_BYTES - (1 << 20));
  });
});
