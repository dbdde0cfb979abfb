/**
 * TraceQL → the query engine's filter language, as a *superset*: every span the TraceQL
 * condition can match also matches the filter, so the engine's pruning (partitions, footer
 * statistics, blooms, row groups, late materialisation) runs on it and evaluate.ts decides.
 * What the filter language cannot say exactly (regular expressions, numbers against text
 * maps, trace-level intrinsics) widens to TRUE or to "the key is present".
 */
import { isResourceSpec, type PromotedSpec } from '../../schema/promoted.js';
import type { Condition, SpansetExpr, TqlLiteral } from './types.js';
import { spansets } from './types.js';

const TRUE = 'TRUE';

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sqlOp(op: string): string | null {
  return op === '=~' || op === '!~' ? null : op;
}

const INTRINSIC_COLUMN: Readonly<Record<string, string>> = { name: 'name', statusMessage: 'status_message', status: 'status_code', kind: 'kind', duration: 'duration_ns' };

function literalSql(lit: TqlLiteral): string {
  switch (lit.type) {
    case 'string':
      return quote(lit.value);
    case 'status':
    case 'kind':
      return quote(lit.value.toUpperCase());
    case 'duration':
      return lit.value.toString();
    case 'number':
      return String(lit.value);
    case 'bool':
      return lit.value ? 'TRUE' : 'FALSE';
  }
}

/** Promoted columns by attribute key, one map per attribute map they come out of. */
interface PromotedByKey {
  readonly span: ReadonlyMap<string, PromotedSpec>;
  readonly resource: ReadonlyMap<string, PromotedSpec>;
}

/**
 * A promoted key lives in its typed column, or in its map when the value did not fit the type
 * (and in the map in files written before the column existed: a v1 file has no resource columns).
 */
function promotedLeaf(p: PromotedSpec, ref: string, op: string | null, value: Extract<Condition, { kind: 'cmp' }>['value']): string {
  const fits = op !== null && ((p.type === 'string' && value.type === 'string') || ((p.type === 'int64' || p.type === 'double') && value.type === 'number') || (p.type === 'bool' && value.type === 'bool'));
  return fits ? `(${p.column} ${op} ${literalSql(value)} OR ${ref} IS NOT NULL)` : `(${p.column} IS NOT NULL OR ${ref} IS NOT NULL)`;
}

function leaf(c: Extract<Condition, { kind: 'cmp' }>, promoted: PromotedByKey): string {
  const op = sqlOp(c.op);
  const { left, value } = c;
  if (left.kind === 'intrinsic') {
    const col = INTRINSIC_COLUMN[left.name];
    if (col === undefined) return TRUE; // trace-level: judged once the trace's outline is read
    // An unset message reads as "" in TraceQL but is NULL in the file: only a non-empty `=` pushes down.
    if (left.name === 'statusMessage' && !(op === '=' && value.type === 'string' && value.value !== '')) return TRUE;
    return op === null ? `${col} IS NOT NULL` : `${col} ${op} ${literalSql(value)}`;
  }
  if (left.scope === 'any') return TRUE; // span or resource: no single column to push down
  if (left.scope === 'resource') {
    if (left.key === 'service.name' && value.type === 'string' && op !== null) return `service_name ${op} ${literalSql(value)}`;
    const ref = `resource_attributes[${quote(left.key)}]`;
    const p = promoted.resource.get(left.key);
    if (p !== undefined) return promotedLeaf(p, ref, op, value);
    return value.type === 'string' && op !== null ? `${ref} ${op} ${literalSql(value)}` : `${ref} IS NOT NULL`;
  }
  const ref = `attributes[${quote(left.key)}]`;
  const p = promoted.span.get(left.key);
  if (p === undefined) return value.type === 'string' && op !== null ? `${ref} ${op} ${literalSql(value)}` : `${ref} IS NOT NULL`;
  return promotedLeaf(p, ref, op, value);
}

function conditionFilter(c: Condition, promoted: PromotedByKey): string {
  switch (c.kind) {
    case 'all':
      return TRUE;
    case 'cmp':
      return leaf(c, promoted);
    case 'and':
    case 'or': {
      const l = conditionFilter(c.left, promoted);
      const r = conditionFilter(c.right, promoted);
      if (c.kind === 'and') return l === TRUE ? r : r === TRUE ? l : `(${l}) AND (${r})`;
      return l === TRUE || r === TRUE ? TRUE : `(${l}) OR (${r})`;
    }
  }
}

/** The engine filter for the spans any spanset of the query can match; undefined = every span. */
export function pruneFilter(e: SpansetExpr, promoted: readonly PromotedSpec[]): string | undefined {
  const byKey: PromotedByKey = {
    span: new Map(promoted.filter((p) => !isResourceSpec(p)).map((p) => [p.attribute, p])),
    resource: new Map(promoted.filter(isResourceSpec).map((p) => [p.attribute, p])),
  };
  const parts = spansets(e).map((c) => conditionFilter(c, byKey));
  if (parts.some((p) => p === TRUE)) return undefined;
  return parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' OR ');
}
