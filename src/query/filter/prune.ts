/**
 * Chunk pruning from min/max/null-count statistics (Parquet files and row groups).
 *
 * `mightMatch` must never say false for a chunk holding a matching row; saying true for a chunk
 * without one only costs a read. So every rule below is a proof that no row can be TRUE, and
 * anything unknown (missing stats, map entries, odd value types) answers true.
 */
import type { CmpOp, ColumnType, Expr, Literal } from './types.js';
import { compareValues, likePrefix } from './values.js';

/**
 * Statistics of one column in one chunk. `min`/`max` bound the non-null values: strings as
 * string or UTF-8 bytes (compared bytewise, as Parquet does), ints as bigint or number,
 * floats as number, timestamps as bigint nanoseconds or Date, bools as boolean.
 *
 * `nanCount` (float only): Parquet min/max leave NaN out, and NaN sorts above every number
 * (DuckDB semantics, see `compareValues`), so unless `nanCount` is known to be 0 a float
 * chunk is assumed to hold NaN above `max`, and only lower bounds prune it.
 */
export interface ColumnStats {
  min?: unknown;
  max?: unknown;
  nullCount?: bigint | number;
  rowCount: bigint | number;
  nanCount?: bigint | number;
}

export type StatsLookup = (column: string) => ColumnStats | undefined;

type Leaf = Extract<Expr, { column: unknown }>;
/** A comparable bound: strings become UTF-8 bytes so they order exactly like the statistics. */
type Key = Buffer | Exclude<Literal, string>;

/** False only when no row of a chunk with these statistics can make `expr` TRUE. */
export function mightMatch(expr: Expr, stats: StatsLookup): boolean {
  return could(expr, true, stats);
}

/**
 * Could `e` be `want` (TRUE, or FALSE) for some row? Asking for FALSE is how NOT is handled:
 * NOT e is TRUE exactly where e is FALSE, and FALSE pushes through AND/OR by De Morgan.
 */
function could(e: Expr, want: boolean, stats: StatsLookup): boolean {
  switch (e.kind) {
    case 'const':
      return e.value === want;
    case 'not':
      return could(e.expr, !want, stats);
    case 'and':
      return want ? could(e.left, true, stats) && could(e.right, true, stats) : could(e.left, false, stats) || could(e.right, false, stats);
    case 'or':
      return want ? could(e.left, true, stats) || could(e.right, true, stats) : could(e.left, false, stats) && could(e.right, false, stats);
    default:
      return leafCouldBeTrue(want ? e : negate(e), stats);
  }
}

const NEGATED: Readonly<Record<CmpOp, CmpOp>> = { '=': '!=', '!=': '=', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

/**
 * The leaf that is TRUE exactly where `e` is FALSE. For comparisons, IN and LIKE a NULL value
 * makes both UNKNOWN, and on non-null values they are complements; IS NULL is never UNKNOWN.
 */
function negate(e: Leaf): Leaf {
  return e.kind === 'cmp' ? { ...e, op: NEGATED[e.op] } : { ...e, not: !e.not };
}

function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
}

/** Normalises a statistics bound to a Key, or undefined when it cannot be trusted. */
function bound(v: unknown, type: ColumnType, side: 'min' | 'max'): Key | undefined {
  switch (type) {
    case 'string':
      if (typeof v === 'string') return Buffer.from(v, 'utf8');
      return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : undefined;
    case 'int':
      // Unsafe numbers may already be rounded the wrong way, so they are ignored.
      return toBigInt(v);
    case 'float':
      return typeof v === 'number' ? v : undefined;
    case 'bool':
      return typeof v === 'boolean' ? v : undefined;
    case 'timestamp': {
      if (typeof v === 'bigint') return v;
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) return undefined;
      // A Date has lost the sub-millisecond part, rounded in an unknown direction: widen by 1 ms.
      return (BigInt(v.getTime()) + (side === 'min' ? -1n : 1n)) * 1_000_000n;
    }
    case 'map':
      return undefined;
  }
}

function cmp(a: Key, b: Key): number {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return Buffer.compare(a, b);
  return compareValues(a as Exclude<Literal, string>, b as Exclude<Literal, string>);
}

const key = (v: Literal): Key => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

function leafCouldBeTrue(e: Leaf, stats: StatsLookup): boolean {
  const col = e.column;
  // A map entry has no statistics of its own; whole-map null counts are not trusted either.
  if (col.key !== undefined || col.type === 'map') return true;
  const s = stats(col.name);
  if (s === undefined) return true;
  const rows = toBigInt(s.rowCount);
  const nulls = toBigInt(s.nullCount);
  if (rows === 0n) return false;
  if (e.kind === 'isnull') {
    if (!e.not) return nulls === undefined || nulls > 0n;
    return nulls === undefined || rows === undefined || nulls < rows;
  }
  // Everything else is UNKNOWN on NULL, so an all-NULL chunk has no TRUE row.
  if (nulls !== undefined && rows !== undefined && nulls >= rows) return false;
  const lo = bound(s.min, col.type, 'min');
  let hi = bound(s.max, col.type, 'max');
  if (col.type === 'float' && toBigInt(s.nanCount) !== 0n) hi = Number.NaN;
  if (e.kind === 'cmp') return cmpCouldBeTrue(e.op, key(e.value), lo, hi);
  if (e.kind === 'in') {
    const values = e.values.map(key);
    // NOT IN is never TRUE only when every value equals one listed value: min = max, listed.
    if (e.not) return !(lo !== undefined && hi !== undefined && cmp(lo, hi) === 0 && values.some((v) => cmp(v, lo) === 0));
    return values.some((v) => cmpCouldBeTrue('=', v, lo, hi));
  }
  return likeCouldBeTrue(e.pattern, e.not, lo as Buffer | undefined, hi as Buffer | undefined);
}

/** Could some value x in [lo, hi] satisfy `x op v`? */
function cmpCouldBeTrue(op: CmpOp, v: Key, lo: Key | undefined, hi: Key | undefined): boolean {
  switch (op) {
    case '=':
      return !((lo !== undefined && cmp(v, lo) < 0) || (hi !== undefined && cmp(v, hi) > 0));
    case '!=':
      return !(lo !== undefined && hi !== undefined && cmp(lo, v) === 0 && cmp(hi, v) === 0);
    case '<':
      return !(lo !== undefined && cmp(lo, v) >= 0);
    case '<=':
      return !(lo !== undefined && cmp(lo, v) > 0);
    case '>':
      return !(hi !== undefined && cmp(hi, v) <= 0);
    case '>=':
      return !(hi !== undefined && cmp(hi, v) < 0);
  }
}

/**
 * Every match of a pattern starts with its literal prefix p, and cutting strings to p's byte
 * length keeps their order, so [lo, hi] can only hold matches if cut(lo) ≤ p ≤ cut(hi).
 */
function likeCouldBeTrue(pattern: string, not: boolean, lo: Buffer | undefined, hi: Buffer | undefined): boolean {
  const { prefix, rest } = likePrefix(pattern);
  const p = Buffer.from(prefix, 'utf8');
  // Without wildcards LIKE is plain equality.
  if (rest === '') return cmpCouldBeTrue(not ? '!=' : '=', p, lo, hi);
  const cut = (b: Buffer): Buffer => b.subarray(0, p.length);
  if (!not) return !((lo !== undefined && cmp(cut(lo), p) > 0) || (hi !== undefined && cmp(cut(hi), p) < 0));
  // NOT LIKE 'p%' is never TRUE when every value starts with p, i.e. both bounds do.
  if (!/^%+$/.test(rest)) return true;
  return !(lo !== undefined && hi !== undefined && cmp(cut(lo), p) === 0 && cmp(cut(hi), p) === 0);
}
