/** PackedStrings: a group's attribute map appended as a block stores what entry-by-entry appends store. */
import { describe, expect, it } from 'vitest';
import { makeVector } from 'apache-arrow';
import { PackedStrings, StringMapBuilder } from '../../src/schema/columns.js';

const utf8 = (s: string | null) => (s === null ? null : Buffer.from(s, 'utf8'));

/** The map rows of a finished builder as plain arrays of [key, value]. */
function rowsOf(b: StringMapBuilder): unknown[] {
  return [...makeVector(b.finish())].map((row) => (row === null ? null : [...(row as Map<string, string | null>)].map(([k, v]) => [k, v])));
}

describe('StringMapBuilder.appendPackedRow', () => {
  it('stores the same rows as entry-by-entry appends: nulls, empty strings, multi-byte, long blocks, empty maps, null rows', () => {
    const groups: [string, string | null][][] = [
      [['service.name', 'checkout'], ['host.name', null], ['', ''], ['é', '\u{1F600}']],
      [],
      [[`k${'x'.repeat(100)}`, 'v'.repeat(200)], ['k2', 'v2']],
      [['only', null]],
    ];
    const packed = groups.map((g) => ({ keys: PackedStrings.of(g.map(([k]) => utf8(k))), values: PackedStrings.of(g.map(([, v]) => utf8(v))) }));
    const a = new StringMapBuilder();
    const b = new StringMapBuilder();
    // Many rows, so the builders grow past their initial capacity; a null row and plain entries in between.
    for (let i = 0; i < 300; i++) {
      const g = i % groups.length;
      a.appendPackedRow(packed[g]!.keys, packed[g]!.values);
      for (const [k, v] of groups[g]!) b.entry(k, v);
      b.endRow();
      if (i % 7 === 0) {
        a.appendNull();
        b.appendNull();
        a.entry('plain', i % 2 === 0 ? null : String(i));
        b.entry('plain', i % 2 === 0 ? null : String(i));
        a.endRow();
        b.endRow();
      }
    }
    expect(a.length).toBe(b.length);
    const rows = rowsOf(a);
    expect(rows).toEqual(rowsOf(b));
    expect(rows[0]).toEqual([['service.name', 'checkout'], ['host.name', null], ['', ''], ['é', '\u{1F600}']]);
    expect(rows[1]).toBeNull();
  });
});
