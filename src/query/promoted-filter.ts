/**
 * A filter on `resource_attributes['k']` where `k` has a dedicated string column (schema version
 * 2) reads the column, and the map where the column is null: a v2 file holds the value in the
 * column (the map only when it did not fit), a v1 file in the map (it has no such column and
 * reads it as null). Every leaf L on the map entry becomes
 *   (col IS NOT NULL AND L(col)) OR (col IS NULL AND L(map['k']))
 * which keeps L's meaning for comparisons, IN, LIKE and IS [NOT] NULL, and still prunes on the
 * column's statistics. Columns of other types are not rewritten: the map holds text, they do not.
 */
import type { ColumnRef, Expr } from './filter/index.js';
import { isResourceSpec, type PromotedSpec } from '../schema/promoted.js';

type Leaf = Extract<Expr, { column: ColumnRef }>;

function withColumn(leaf: Leaf, column: ColumnRef): Expr {
  return { ...leaf, column } as Expr;
}

export function resourceColumnsInFilter(expr: Expr, promoted: readonly PromotedSpec[]): Expr {
  const columns = new Map<string, string>();
  for (const p of promoted) if (isResourceSpec(p) && p.type === 'string') columns.set(p.attribute, p.column);
  if (columns.size === 0) return expr;
  const walk = (e: Expr): Expr => {
    switch (e.kind) {
      case 'and':
      case 'or':
        return { kind: e.kind, left: walk(e.left), right: walk(e.right) };
      case 'not':
        return { kind: 'not', expr: walk(e.expr) };
      case 'const':
        return e;
      default: {
        const ref = e.column;
        const col = ref.name === 'resource_attributes' && ref.key !== undefined ? columns.get(ref.key) : undefined;
        if (col === undefined) return e;
        const colRef: ColumnRef = { name: col, type: 'string' };
        const isNull = (not: boolean): Expr => ({ kind: 'isnull', not, column: colRef });
        return {
          kind: 'or',
          left: { kind: 'and', left: isNull(true), right: withColumn(e, colRef) },
          right: { kind: 'and', left: isNull(false), right: e },
        };
      }
    }
  };
  return walk(expr);
}
