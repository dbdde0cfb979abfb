/**
 * Row-at-a-time evaluation with SQL three-valued logic.
 *
 * UNKNOWN is `null`: any comparison, IN or LIKE with a NULL value is UNKNOWN, NOT UNKNOWN is
 * UNKNOWN, FALSE AND UNKNOWN is FALSE, TRUE OR UNKNOWN is TRUE. A row matches only when the
 * whole filter is TRUE, exactly as in a SQL WHERE clause, so results agree with DuckDB.
 */
import { S3ParquetError } from '../../errors.js';
import type { CmpOp, ColumnRef, Expr, Literal } from './types.js';
import { compileLike, type LikeMatcher } from './like.js';
import { compareValues } from './values.js';

type Tri = boolean | null;

/** Each LIKE node's compiled pattern, found by the node itself (the tree stays plain data). */
const likeMatchers = new WeakMap<Expr, LikeMatcher>();

/** A row as the filter reads it: one value per column name (see `evaluate`). */
export type RowAccessor = (column: string) => unknown;

/**
 * Whether `row` matches `expr`. The accessor returns, per column type: string; int as bigint
 * or number; float as number; bool; timestamp as bigint nanoseconds or Date; map as
 * Map<string, string> or a plain Record<string, string> (a missing key is NULL); null or
 * undefined for NULL. Any other value is a programming error and throws INTERNAL.
 */
export function evaluate(expr: Expr, row: RowAccessor): boolean {
  return evalTri(expr, row) === true;
}

function evalTri(e: Expr, row: RowAccessor): Tri {
  switch (e.kind) {
    case 'const':
      return e.value;
    case 'and': {
      const l = evalTri(e.left, row);
      if (l === false) return false;
      const r = evalTri(e.right, row);
      if (r === false) return false;
      return l === null || r === null ? null : true;
    }
    case 'or': {
      const l = evalTri(e.left, row);
      if (l === true) return true;
      const r = evalTri(e.right, row);
      if (r === true) return true;
      return l === null || r === null ? null : false;
    }
    case 'not': {
      const v = evalTri(e.expr, row);
      return v === null ? null : !v;
    }
    case 'isnull':
      return (read(e.column, row) === null) !== e.not;
    case 'cmp': {
      const v = read(e.column, row);
      return v === null ? null : applyOp(e.op, compareValues(v, e.value));
    }
    case 'in': {
      const v = read(e.column, row);
      if (v === null) return null;
      // The parser rejects NULL in IN lists, so "not found" is FALSE, never UNKNOWN.
      return e.values.some((x) => compareValues(v, x) === 0) !== e.not;
    }
    case 'like': {
      const v = read(e.column, row);
      if (v === null) return null;
      let m = likeMatchers.get(e);
      if (m === undefined) likeMatchers.set(e, (m = compileLike(e.pattern)));
      return m(v as string) !== e.not;
    }
  }
}

function applyOp(op: CmpOp, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function badValue(col: ColumnRef, v: unknown, expected: string): S3ParquetError {
  const got = v === null ? 'null' : v instanceof Date ? 'Date' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
  return new S3ParquetError('INTERNAL', `filter: column "${col.name}" (${col.type}) holds a ${got}; expected ${expected}`);
}

/** Reads and normalises one value: bigint for int/timestamp where exact, or null. */
function read(col: ColumnRef, row: RowAccessor): Literal | null {
  let v = row(col.name);
  if (v === null || v === undefined) return null;
  if (col.key !== undefined) {
    if (v instanceof Map) v = v.get(col.key);
    else if (typeof v === 'object') v = Object.hasOwn(v, col.key) ? (v as Record<string, unknown>)[col.key] : undefined;
    else throw badValue(col, v, 'a Map or a Record');
    if (v === null || v === undefined) return null;
  }
  switch (col.type) {
    case 'string':
      if (typeof v === 'string') return v;
      throw badValue(col, v, 'a string');
    case 'bool':
      if (typeof v === 'boolean') return v;
      throw badValue(col, v, 'a boolean');
    case 'int':
      if (typeof v === 'bigint') return v;
      // Integral numbers become bigint so equality with bigint literals is exact.
      if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
      throw badValue(col, v, 'a bigint or number');
    case 'float':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      throw badValue(col, v, 'a number');
    case 'timestamp':
      if (typeof v === 'bigint') return v;
      if (v instanceof Date && !Number.isNaN(v.getTime())) return BigInt(v.getTime()) * 1_000_000n;
      // A bare number is refused: milliseconds or nanoseconds would be a guess.
      throw badValue(col, v, 'bigint nanoseconds or a Date');
    case 'map':
      // Only IS [NOT] NULL reads a whole map, and it only needs to know it is not NULL.
      return true;
  }
}
