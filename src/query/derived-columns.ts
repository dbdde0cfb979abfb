/**
 * Columns the query port answers with that a file may not store (src/schema/derived.ts: the
 * traces' `end_time = start_time + duration_ns` of schema version 3). Applied once, in the
 * engine's scan of each file, so every reader above it — select, filters, span views, trace
 * search, Tempo, Jaeger, the UI — sees the column whatever the file's version: a file that
 * stores the column is read as it is; one that does not has its two summands read and added.
 */
import { derivedIn, int64Sum, type DerivedColumn } from '../schema/derived.js';
import type { ColumnStats } from './filter/index.js';
import type { ColumnRange } from './columns.js';

/** The derived columns among `wanted` that this file must compute (it lacks them, has their summands). */
export function toDerive(derived: readonly DerivedColumn[] | undefined, wanted: readonly string[], present: ReadonlySet<string>): DerivedColumn[] {
  if (!derived || derived.length === 0) return [];
  return derivedIn(derived, present).filter((d) => wanted.includes(d.name));
}

/** The stored columns to read for `wanted` in a file with `present` columns: derived ones become their summands. */
export function storedColumns(wanted: readonly string[], derive: readonly DerivedColumn[], present: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const c of wanted) {
    const d = derive.find((x) => x.name === c);
    if (d) {
      out.add(d.sum[0]);
      out.add(d.sum[1]);
    } else if (present.has(c)) out.add(c);
  }
  return [...out];
}

/**
 * `range` with each derived column computed for rows [start, end): the int64 sum of its
 * summands where both are present (values of rows a matched read skipped stay absent), null
 * where either is null.
 */
export function addDerived(range: ColumnRange, derive: readonly DerivedColumn[], start: number, end: number): ColumnRange {
  let out = range;
  for (const d of derive) {
    const values = new Array<bigint | null | undefined>(end - start);
    const [a, b] = d.sum;
    for (let row = start; row < end; row++) {
      const x = range.get(a, row);
      const y = range.get(b, row);
      values[row - start] = typeof x === 'bigint' && typeof y === 'bigint' ? int64Sum(x, y) : x === null || y === null ? null : undefined;
    }
    out = out.with(d.name, [{ start, end, values }]);
  }
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Statistics of the derived columns from their summands' (a bonus for pruning: none would be
 * correct too): min ≥ min a + min b, max ≤ max a + max b. Only when neither summand has nulls
 * and both bound sums stay inside int64: then no row's sum wrapped, and the bounds hold.
 */
export function withDerivedStats(stats: (column: string) => ColumnStats | undefined, derive: readonly DerivedColumn[]): (column: string) => ColumnStats | undefined {
  if (derive.length === 0) return stats;
  const extra = new Map<string, ColumnStats>();
  for (const d of derive) {
    const a = stats(d.sum[0]);
    const b = stats(d.sum[1]);
    if (!a || !b || !noNulls(a) || !noNulls(b)) continue;
    if (typeof a.min !== 'bigint' || typeof a.max !== 'bigint' || typeof b.min !== 'bigint' || typeof b.max !== 'bigint') continue;
    const min = a.min + b.min;
    const max = a.max + b.max;
    if (min < INT64_MIN || max > INT64_MAX) continue;
    extra.set(d.name, { min, max, nullCount: 0, rowCount: a.rowCount });
  }
  if (extra.size === 0) return stats;
  return (column) => extra.get(column) ?? stats(column);
}

function noNulls(s: ColumnStats): boolean {
  return s.nullCount !== undefined && BigInt(s.nullCount) === 0n;
}
