/**
 * Renders an Expr as DuckDB SQL: for logs, error messages and the DuckDB equivalence tests.
 * Every binary node is parenthesised, so the output never depends on operator precedence.
 */
import { formatTimestampNs } from '../../time/timestamp.js';
import type { ColumnRef, Expr, Literal } from './types.js';

// Words DuckDB (or our own grammar) would not read as a plain column name.
const RESERVED = new Set([
  'all', 'and', 'any', 'array', 'as', 'asc', 'between', 'case', 'cast', 'check', 'collate', 'column', 'constraint',
  'create', 'default', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for', 'foreign', 'from',
  'grant', 'group', 'having', 'in', 'intersect', 'into', 'is', 'like', 'limit', 'not', 'null', 'offset', 'on', 'only',
  'or', 'order', 'primary', 'references', 'returning', 'select', 'some', 'table', 'then', 'to', 'true', 'union',
  'unique', 'using', 'when', 'where', 'window', 'with',
]);

export function quoteIdent(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED.has(name.toLowerCase()) ? name : `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function column(c: ColumnRef): string {
  return c.key === undefined ? quoteIdent(c.name) : `${quoteIdent(c.name)}[${quoteString(c.key)}]`;
}

function literal(v: Literal, c: ColumnRef): string {
  switch (typeof v) {
    case 'string':
      return quoteString(v);
    case 'boolean':
      return v ? 'TRUE' : 'FALSE';
    case 'bigint': {
      if (c.type !== 'timestamp') return v.toString();
      const text = formatTimestampNs(v);
      return text === undefined ? `make_timestamp_ns(${v})` : `TIMESTAMP_NS '${text}'`;
    }
    case 'number': {
      // DuckDB reads `0.1` as DECIMAL; against a DOUBLE column an exponent makes it a DOUBLE,
      // parsed exactly like ours. Against an int column a DECIMAL compares exactly, as we do.
      const s = String(v);
      return Number.isInteger(v) || s.includes('e') || c.type === 'int' ? s : `${s}e0`;
    }
  }
}

export function toSql(e: Expr): string {
  switch (e.kind) {
    case 'const':
      return e.value ? 'TRUE' : 'FALSE';
    case 'and':
    case 'or':
      return `(${toSql(e.left)} ${e.kind.toUpperCase()} ${toSql(e.right)})`;
    case 'not':
      return `(NOT ${toSql(e.expr)})`;
    case 'isnull':
      return `${column(e.column)} IS ${e.not ? 'NOT ' : ''}NULL`;
    case 'cmp':
      return `${column(e.column)} ${e.op} ${literal(e.value, e.column)}`;
    case 'in':
      return `${column(e.column)} ${e.not ? 'NOT IN' : 'IN'} (${e.values.map((v) => literal(v, e.column)).join(', ')})`;
    case 'like':
      return `${column(e.column)} ${e.not ? 'NOT LIKE' : 'LIKE'} ${quoteString(e.pattern)}`;
  }
}
