/**
 * Promoted attribute columns of one batch (`PromotedColumns`): each column's builder receives
 * the value its type fits, or a null, row by row. The builders are appended through one
 * function that picks the builder's method by the value's type (no per-batch closures, for
 * V8's sake: bench/NOTES.md), so every type, a missing value, a value that does not fit, the
 * first occurrence winning and a second batch made from the same specs are checked here.
 */
import { describe, expect, it } from 'vitest';
import { makeVector } from 'apache-arrow';
import type { AnyValue } from '../../src/otlp/types.js';
import { parsePromoted, PromotedColumns } from '../../src/schema/promoted.js';

const SPECS = [parsePromoted('http.route'), parsePromoted('http.response.status_code'), parsePromoted('ratio:double'), parsePromoted('error')];

const str = (s: string): AnyValue => ({ value: 'stringValue', stringValue: s }) as AnyValue;
const int = (n: number): AnyValue => ({ value: 'intValue', intValue: n }) as AnyValue;
const dbl = (n: number): AnyValue => ({ value: 'doubleValue', doubleValue: n }) as AnyValue;
const bool = (b: boolean): AnyValue => ({ value: 'boolValue', boolValue: b }) as AnyValue;

/** Rows of [key, value] pairs through `take` and `endRow`; each column's values read back. */
function columns(rows: ReadonlyArray<ReadonlyArray<readonly [string, AnyValue]>>): { taken: boolean[][]; values: unknown[][] } {
  const p = new PromotedColumns(SPECS, 2);
  const taken = rows.map((row) => {
    const t = row.map(([k, v]) => p.take(k, v));
    p.endRow();
    return t;
  });
  return { taken, values: p.builders.map((b) => [...makeVector(b.finish())]) };
}

describe('promoted attribute columns', () => {
  it('append each type, nulls for missing and non-fitting values, the first occurrence winning', () => {
    const rows = [
      [['http.route', str('/a')], ['http.response.status_code', int(200)], ['ratio', dbl(0.5)], ['error', bool(true)]],
      [],
      [['http.route', int(7)], ['ratio', int(3)], ['error', bool(false)], ['error', bool(true)]],
      [['http.response.status_code', str('x')], ['http.route', str('/b')], ['http.route', str('/c')]],
    ] as const;
    const { taken, values } = columns(rows);
    expect(taken).toEqual([[true, true, true, true], [], [false, true, true, false], [false, true, false]]);
    expect(values).toEqual([
      ['/a', null, null, '/b'],
      [200n, null, null, null],
      [0.5, null, 3, null],
      [true, null, false, null],
    ]);
  });

  it('is the same for a second batch made from the same specs', () => {
    const rows = [[['http.route', str('/x')], ['error', bool(true)]], [['http.response.status_code', int(-1)]]] as const;
    const first = columns(rows);
    expect(columns(rows)).toEqual(first);
    expect(first.values).toEqual([
      ['/x', null],
      [null, -1n],
      [null, null],
      [true, null],
    ]);
  });
});
