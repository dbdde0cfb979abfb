/**
 * columnStrings (the values a flush's bloom filter and trace index are built from) reads the
 * UTF-8 bytes and decodes only a run's first row: the index it gives must be the one every row,
 * decoded one by one, gives — on sorted and unsorted rows, sliced batches, nulls and multi-byte text.
 */
import { describe, expect, it } from 'vitest';
import { Int32, RecordBatch, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { buildFileIndex } from '../../src/parquet/contract.js';
import { distinctValues } from '../../src/parquet/trace-index.js';
import { columnStrings } from '../../src/pipeline/encode-flush.js';
import { sortBatches } from '../../src/pipeline/sort.js';

function batch(values: (string | null)[]): RecordBatch {
  return new Table({ id: vectorFromArray(values, new Utf8()), n: vectorFromArray(values.map((_, i) => i), new Int32()) }).batches[0]! as RecordBatch;
}

/** Every row decoded, as the flush did before. */
function everyRow(batches: readonly RecordBatch[], column: string): string[] {
  const out: string[] = [];
  for (const b of batches) {
    const vec = b.getChild(column)!;
    for (let i = 0; i < b.numRows; i++) {
      const v = vec.get(i) as string | null;
      if (v !== null) out.push(v);
    }
  }
  return out;
}

describe('columnStrings', () => {
  const values = ['b', 'b', null, 'b', 'a', 'é', 'é', '\u{1F600}', null, null, 'a', 'ab', 'a', '', '', 'b'];
  const batches = [batch(values), batch(values.map((v) => (v === null ? 'x' : `${v}2`))).slice(3, 12), batch([null, null]), batch(['z', null, 'z'])];

  it('gives the same distinct values, in the same order, as decoding every row', () => {
    for (const set of [batches, [sortBatches(batches, 'id')], [sortBatches(batches, 'id').slice(5, 20)]]) {
      const fast = [...columnStrings(set, 'id')];
      expect(distinctValues(fast)).toEqual(distinctValues(everyRow(set, 'id')));
      expect(buildFileIndex('id', fast).encoded).toBe(buildFileIndex('id', everyRow(set, 'id')).encoded);
      // Repeats of the previous value are left out, nulls never appear.
      for (let i = 1; i < fast.length; i++) expect(fast[i]).not.toBe(fast[i - 1]);
      expect(fast).not.toContain(null);
    }
  });

  it('reads a column that is not text value by value, and skips a missing one', () => {
    expect([...columnStrings(batches, 'nope')]).toEqual([]);
    expect([...columnStrings([batch(['a', 'b'])], 'n')]).toEqual([0, 1]);
  });
});
