/**
 * The query engine's derived columns (src/query/derived-columns.ts): which columns a file must
 * compute, what it reads instead, the values, and the pruning bounds from the summands'
 * statistics (a filter on `end_time` prunes a version-3 row group only when that is proven).
 */
import { describe, expect, it } from 'vitest';
import { ColumnRange } from '../../src/query/columns.js';
import { addDerived, storedColumns, toDerive, withDerivedStats } from '../../src/query/derived-columns.js';
import { mightMatch, parseFilter, type ColumnStats } from '../../src/query/filter/index.js';
import { TRACES_DERIVED } from '../../src/schema/traces.js';

const v3 = new Set(['span_id', 'start_time', 'duration_ns']);
const v2 = new Set(['span_id', 'start_time', 'end_time', 'duration_ns']);
const INT64_MAX = 2n ** 63n - 1n;

describe('derived columns in the engine', () => {
  it('derives end_time only in files that lack it, reading its summands instead', () => {
    expect(toDerive(TRACES_DERIVED, ['span_id', 'end_time'], v3)).toEqual(TRACES_DERIVED);
    expect(toDerive(TRACES_DERIVED, ['span_id', 'end_time'], v2)).toEqual([]);
    expect(toDerive(TRACES_DERIVED, ['span_id'], v3)).toEqual([]);
    expect(storedColumns(['span_id', 'end_time'], TRACES_DERIVED, v3)).toEqual(['span_id', 'start_time', 'duration_ns']);
    expect(storedColumns(['end_time', 'start_time'], TRACES_DERIVED, v3)).toEqual(['start_time', 'duration_ns']);
    expect(storedColumns(['span_id', 'end_time', 'gone'], [], v2)).toEqual(['span_id', 'end_time']);
  });

  it('adds start + duration in int64, null where a summand is null, absent where a read skipped the row', () => {
    const range = new ColumnRange(
      new Map([
        ['start_time', [{ start: 10, end: 14, values: [1704067500123456789n, INT64_MAX, null, 5n] }]],
        ['duration_ns', [{ start: 10, end: 14, values: [1_000_000_001n, -INT64_MAX, 7n, undefined] }]],
      ]),
    );
    const out = addDerived(range, TRACES_DERIVED, 10, 14);
    expect([10, 11, 12, 13].map((r) => out.get('end_time', r))).toEqual([1704067501123456790n, 0n, null, undefined]);
    expect(out.get('start_time', 10)).toBe(1704067500123456789n);
  });

  it('bounds end_time by the summands\' statistics, and gives no bound when it could be wrong', () => {
    const stats = (s: Partial<Record<string, ColumnStats>>) => (c: string) => s[c];
    const group = stats({
      start_time: { min: 1000n, max: 2000n, nullCount: 0n, rowCount: 10n },
      duration_ns: { min: 5n, max: 50n, nullCount: 0n, rowCount: 10n },
    });
    const derived = withDerivedStats(group, TRACES_DERIVED);
    expect(derived('end_time')).toEqual({ min: 1005n, max: 2050n, nullCount: 0, rowCount: 10n });
    const cols = new Map([['end_time', 'timestamp' as const]]);
    const f = (text: string) => parseFilter(text, cols);
    // 2050 ns after the epoch is the largest possible end: a later bound prunes, an earlier one cannot.
    expect(mightMatch(f("end_time > '1970-01-01T00:00:00.000002050Z'"), derived)).toBe(false);
    expect(mightMatch(f("end_time > '1970-01-01T00:00:00.000002049Z'"), derived)).toBe(true);
    expect(mightMatch(f("end_time < '1970-01-01T00:00:00.000001005Z'"), derived)).toBe(false);
    // Without statistics for end_time the group is read (no pruning is the correct default).
    expect(mightMatch(f("end_time > '1970-01-01T00:00:00.000002050Z'"), group)).toBe(true);
    // A summand with nulls, or bounds whose sum leaves int64 (a row could have wrapped): no bound.
    const nulls = stats({ start_time: { min: 1000n, max: 2000n, nullCount: 1n, rowCount: 10n }, duration_ns: { min: 5n, max: 50n, nullCount: 0n, rowCount: 10n } });
    expect(withDerivedStats(nulls, TRACES_DERIVED)('end_time')).toBeUndefined();
    const wide = stats({ start_time: { min: 0n, max: INT64_MAX, nullCount: 0n, rowCount: 2n }, duration_ns: { min: 0n, max: 1n, nullCount: 0n, rowCount: 2n } });
    expect(withDerivedStats(wide, TRACES_DERIVED)('end_time')).toBeUndefined();
    // A file that stores end_time keeps its own statistics.
    const stored = stats({ end_time: { min: 1n, max: 2n, nullCount: 0n, rowCount: 1n } });
    expect(withDerivedStats(stored, [])('end_time')).toEqual({ min: 1n, max: 2n, nullCount: 0n, rowCount: 1n });
  });
});
