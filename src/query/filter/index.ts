/**
 * The query port's filter language: a small SQL WHERE subset over a typed column catalog.
 *
 *   const expr = parseFilter("service_name = 'api' AND duration_ns > 1e6", catalog);
 *   rows.filter((r) => evaluate(expr, (c) => r[c]));
 *   files.filter((f) => mightMatch(expr, (c) => f.stats[c]));
 *
 * Grammar and semantics: docs/query.md ("Filters") and parser.ts.
 */
export { DEFAULT_FILTER_LIMITS, parseFilter, type FilterLimits } from './parser.js';
export { evaluate, type RowAccessor } from './evaluate.js';
export { mightMatch, type ColumnStats, type StatsLookup } from './prune.js';
export { toSql } from './sql.js';
export { columnsOf, FilterError } from './types.js';
export type { CmpOp, ColumnCatalog, ColumnRef, ColumnType, Expr, Literal, ValueType } from './types.js';
