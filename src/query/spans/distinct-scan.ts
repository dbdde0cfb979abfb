/**
 * Distinct values (services, operations, tag names, tag values) by a bounded scan of the newest
 * data: the range is walked newest first in the same windows as search, reading only the
 * columns asked for, and the scan stops at a row cap, a byte budget or enough values. The lake
 * has no separate index of names, so this is the bound that keeps a lookup cheap on a big lake;
 * `truncated` says when it stopped early.
 */
import { emptyStats, type QueryStats } from '../engine.js';
import type { RecordSource } from '../record-source.js';
import type { JsonValue } from '../json-values.js';
import { addStats } from './trace-fetch.js';
import { DEFAULT_SEARCH_BUDGET_BYTES, MAX_SCANNED_ROWS, windows } from './search.js';

export const MAX_SCAN_ROWS = 200_000;
export const MAX_DISTINCT_VALUES = 1_000;

export interface DistinctScan {
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly select: readonly string[];
  readonly filter?: string;
  /** The values one record contributes. */
  readonly extract: (rec: Readonly<Record<string, JsonValue>>) => Iterable<string>;
  readonly maxValues?: number;
}

export interface DistinctResult {
  /** Sorted. */
  readonly values: string[];
  readonly truncated: boolean;
  readonly stats: QueryStats;
}

export async function distinctValues(source: RecordSource, o: DistinctScan): Promise<DistinctResult> {
  const maxValues = o.maxValues ?? MAX_DISTINCT_VALUES;
  const values = new Set<string>();
  const total = emptyStats();
  let rows = 0;
  let truncated = false;
  outer: for (const [lo, hi] of windows(o.startNs, o.endNs)) {
    if (total.bytes_read >= DEFAULT_SEARCH_BUDGET_BYTES) {
      truncated = true;
      break;
    }
    const stats = emptyStats();
    try {
      for await (const rec of source.query({ dataset: 'traces', start: lo, end: hi, select: o.select, ...(o.filter !== undefined ? { filter: o.filter } : {}) }, stats)) {
        for (const v of o.extract(rec)) values.add(v);
        if (++rows >= MAX_SCAN_ROWS || values.size >= maxValues || total.rows_scanned + stats.rows_scanned >= MAX_SCANNED_ROWS) {
          truncated = true;
          break outer;
        }
      }
    } finally {
      addStats(total, stats);
    }
  }
  return { values: [...values].sort().slice(0, maxValues), truncated, stats: total };
}

/** The keys of a map column's value in a record. */
export function mapKeys(v: JsonValue | undefined): string[] {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
}
