/**
 * The filter language's data model: column types, the parsed expression tree and the error.
 *
 * The tree is plain data (no classes, no methods) so it can be logged, compared in tests and
 * sent across workers; every consumer (evaluate, prune, toSql) is a separate function over it.
 */
import { S3ParquetError } from '../../errors.js';

/**
 * A column's type as the filter sees it. `int` covers int32 and int64 (literals are bigint);
 * `timestamp` is nanoseconds since the Unix epoch, UTC (literals are bigint); `map` is a
 * string-to-string map read with `column['key']`, which yields a string.
 */
export type ColumnType = 'string' | 'int' | 'float' | 'bool' | 'timestamp' | 'map';

/** The type of a value a reference yields: a map entry is a string. */
export type ValueType = Exclude<ColumnType, 'map'>;

/** Column name → type. Lookups are exact (case-sensitive), as Parquet column names are. */
export type ColumnCatalog = ReadonlyMap<string, ColumnType>;

/**
 * A column reference. With `key`, it reads one entry of the map column `name`, and `type` is
 * `'string'`. Without it, `type` is the column's own type (`'map'` only appears under IS NULL).
 */
export interface ColumnRef {
  readonly name: string;
  readonly key?: string;
  readonly type: ColumnType;
}

/**
 * A literal, already converted to the type of the column it is compared with: bigint for
 * `int` and `timestamp`, number for `float`, string, boolean. An `int` column compared with a
 * non-integral number (`duration_ns > 2.5`) keeps the number; comparisons stay exact because
 * JavaScript compares bigint with number by mathematical value.
 */
export type Literal = string | bigint | number | boolean;

export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { readonly kind: 'cmp'; readonly op: CmpOp; readonly column: ColumnRef; readonly value: Literal }
  | { readonly kind: 'in'; readonly not: boolean; readonly column: ColumnRef; readonly values: readonly Literal[] }
  | { readonly kind: 'like'; readonly not: boolean; readonly column: ColumnRef; readonly pattern: string }
  | { readonly kind: 'isnull'; readonly not: boolean; readonly column: ColumnRef }
  | { readonly kind: 'and' | 'or'; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'not'; readonly expr: Expr }
  | { readonly kind: 'const'; readonly value: boolean };

/**
 * A filter that does not parse or does not fit the catalog. Always INVALID_ARGUMENT: the
 * text comes from a client, so the client has to fix it. `position` is the 0-based offset
 * (UTF-16 code units, as JavaScript indexes strings) of the offending token.
 */
export class FilterError extends S3ParquetError {
  readonly position: number;

  constructor(message: string, position: number) {
    super('INVALID_ARGUMENT', message);
    this.name = 'FilterError';
    this.position = position;
  }

  /** The usual shape: `filter: at position N: <detail>`. */
  static at(position: number, detail: string): FilterError {
    return new FilterError(`filter: at position ${position}: ${detail}`, position);
  }
}

/** Every column name the expression reads (for map access, the map column's name). */
export function columnsOf(expr: Expr): Set<string> {
  const out = new Set<string>();
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'and':
      case 'or':
        walk(e.left);
        walk(e.right);
        return;
      case 'not':
        walk(e.expr);
        return;
      case 'const':
        return;
      default:
        out.add(e.column.name);
    }
  };
  walk(expr);
  return out;
}
