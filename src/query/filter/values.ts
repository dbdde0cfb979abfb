/**
 * The one ordering every part of the filter uses, so evaluate, prune and DuckDB agree.
 */
import { compileLike } from './like.js';
import type { Literal } from './types.js';

// UTF-16 code units sort surrogates (U+D800–DFFF) below U+E000–FFFF, but the code points they
// encode (≥ U+10000) sort above. Shifting the two ranges restores code point order, which is
// also UTF-8 byte order — the order DuckDB and Parquet statistics use for strings.
function codePointKey(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}

/** Compares strings by code point (equivalently, by their UTF-8 bytes). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointKey(x) - codePointKey(y);
  }
  return a.length - b.length;
}

const isNaNValue = (v: unknown): boolean => typeof v === 'number' && Number.isNaN(v);

/**
 * A total order over values of one column type. bigint and number mix freely (JavaScript
 * compares them by exact mathematical value). NaN equals NaN and sorts above every number,
 * as in DuckDB and PostgreSQL, so that `NOT (x > 1)` and `x <= 1` agree on every row.
 */
export function compareValues(a: Literal, b: Literal): number {
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' || typeof b === 'string' || typeof a === 'boolean' || typeof b === 'boolean') {
    throw new TypeError(`filter: cannot compare ${typeof a} with ${typeof b}`);
  }
  if (isNaNValue(a) || isNaNValue(b)) return isNaNValue(a) === isNaNValue(b) ? 0 : isNaNValue(a) ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * SQL LIKE without an escape character: `%` matches any run of characters, `_` exactly one
 * code point, everything else itself (case-sensitive). Compiled once per pattern (like.ts).
 */
export function likeMatch(text: string, pattern: string): boolean {
  return compileLike(pattern)(text);
}

/**
 * Splits a LIKE pattern into its literal prefix (up to the first wildcard) and the rest.
 * Pruning uses it: every match of `abc%` starts with `abc`.
 */
export function likePrefix(pattern: string): { prefix: string; rest: string } {
  const i = pattern.search(/[%_]/);
  return i < 0 ? { prefix: pattern, rest: '' } : { prefix: pattern.slice(0, i), rest: pattern.slice(i) };
}
