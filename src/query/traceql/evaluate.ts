/**
 * Exact TraceQL semantics over one span and its trace's outline. The engine's filter only
 * prunes (a superset, see prune.ts); this decides. A missing attribute makes a comparison
 * false (also `!=`), as in Tempo. Attribute maps hold text, so a number literal compares
 * numerically with a value whose text is a number, and a boolean with `true`/`false`.
 */
import type { AttrValue, SpanView } from '../spans/span-view.js';
import type { Condition, Operand, SpansetExpr, TqlLiteral, TqlOp } from './types.js';

/** What trace-level intrinsics read: the root span and the trace's extent. */
export interface TraceOutline {
  readonly rootName: string | null;
  readonly rootServiceName: string | null;
  readonly durationNs: bigint;
}

type Value = AttrValue | bigint;

function attribute(span: SpanView, scope: 'span' | 'resource' | 'any', key: string): AttrValue | undefined {
  if (scope !== 'resource') {
    const v = span.attributes.get(key);
    if (v !== undefined || scope === 'span') return v;
  }
  const r = span.resource.get(key);
  if (r !== undefined) return r;
  return key === 'service.name' && span.serviceName !== null ? span.serviceName : undefined;
}

function operandValue(o: Operand, span: SpanView, trace: TraceOutline | null): Value | undefined {
  if (o.kind === 'attr') return attribute(span, o.scope, o.key);
  switch (o.name) {
    case 'name':
      return span.name;
    case 'status':
      return span.statusCode.toLowerCase();
    case 'kind':
      return span.kind.toLowerCase();
    case 'duration':
      return span.durationNs;
    case 'statusMessage':
      return span.statusMessage ?? '';
    case 'rootName':
      return trace?.rootName ?? undefined;
    case 'rootServiceName':
      return trace?.rootServiceName ?? undefined;
    case 'traceDuration':
      return trace?.durationNs;
  }
}

function order(op: TqlOp, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    default:
      return false;
  }
}

const NUMERIC = /^\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function compare(v: Value, op: TqlOp, lit: TqlLiteral, regex: RegExp | undefined): boolean {
  if (regex) return regex.test(String(v)) === (op === '=~');
  switch (lit.type) {
    case 'string':
    case 'status':
    case 'kind': {
      const s = String(v);
      return order(op, s < lit.value ? -1 : s > lit.value ? 1 : 0);
    }
    case 'bool': {
      const b = typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined;
      return b !== undefined && order(op, b === lit.value ? 0 : 1);
    }
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && NUMERIC.test(v) ? Number(v) : undefined;
      return n !== undefined && order(op, n < lit.value ? -1 : n > lit.value ? 1 : 0);
    }
    case 'duration': {
      const d = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
      return d !== undefined && order(op, d < lit.value ? -1 : d > lit.value ? 1 : 0);
    }
  }
}

/** Whether the span satisfies the condition (`trace` null: trace-level intrinsics are unknown → false). */
export function matchesSpan(c: Condition, span: SpanView, trace: TraceOutline | null): boolean {
  switch (c.kind) {
    case 'all':
      return true;
    case 'and':
      return matchesSpan(c.left, span, trace) && matchesSpan(c.right, span, trace);
    case 'or':
      return matchesSpan(c.left, span, trace) || matchesSpan(c.right, span, trace);
    case 'cmp': {
      const v = operandValue(c.left, span, trace);
      return v !== undefined && compare(v, c.op, c.value, c.regex);
    }
  }
}

/**
 * The spans of one trace that make it match the expression, or null when it does not:
 * `A && B` needs both spansets non-empty (their spans together), `A || B` either.
 */
export function matchTrace(e: SpansetExpr, spans: readonly SpanView[], trace: TraceOutline): SpanView[] | null {
  if (e.kind === 'spanset') {
    const hit = spans.filter((s) => matchesSpan(e.condition, s, trace));
    return hit.length > 0 ? hit : null;
  }
  const l = matchTrace(e.left, spans, trace);
  if (e.kind === 'and') {
    if (l === null) return null;
    const r = matchTrace(e.right, spans, trace);
    return r === null ? null : [...new Set([...l, ...r])];
  }
  const r = matchTrace(e.right, spans, trace);
  if (l === null) return r;
  return r === null ? l : [...new Set([...l, ...r])];
}
