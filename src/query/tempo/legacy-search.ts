/**
 * Tempo's search before TraceQL (`tags=`, `minDuration=`, `maxDuration=`) as a TraceQL
 * expression: each tag is its own spanset (any span may carry it), durations bound the trace.
 */
import type { Condition, SpansetExpr } from '../traceql/index.js';

const INTRINSIC_TAGS: Readonly<Record<string, 'name' | 'statusMessage'>> = { name: 'name', 'status.message': 'statusMessage' };

export function legacySearchExpr(tags: readonly [string, string][], minDuration?: bigint, maxDuration?: bigint): SpansetExpr {
  const sets: Condition[] = tags.map(([key, value]): Condition => {
    const intrinsic = INTRINSIC_TAGS[key];
    if (intrinsic) return { kind: 'cmp', left: { kind: 'intrinsic', name: intrinsic }, op: '=', value: { type: 'string', value } };
    if (key === 'status.code' || key === 'error') {
      const status = key === 'error' ? 'error' : value.toLowerCase() === 'error' ? 'error' : value.toLowerCase() === 'ok' ? 'ok' : 'unset';
      return { kind: 'cmp', left: { kind: 'intrinsic', name: 'status' }, op: '=', value: { type: 'status', value: status } };
    }
    return { kind: 'cmp', left: { kind: 'attr', scope: 'any', key }, op: '=', value: { type: 'string', value } };
  });
  const durations: Condition[] = [];
  if (minDuration !== undefined) durations.push({ kind: 'cmp', left: { kind: 'intrinsic', name: 'traceDuration' }, op: '>=', value: { type: 'duration', value: minDuration } });
  if (maxDuration !== undefined) durations.push({ kind: 'cmp', left: { kind: 'intrinsic', name: 'traceDuration' }, op: '<=', value: { type: 'duration', value: maxDuration } });
  const all = [...sets, ...durations];
  if (all.length === 0) return { kind: 'spanset', condition: { kind: 'all' } };
  let expr: SpansetExpr = { kind: 'spanset', condition: all[0]! };
  for (const c of all.slice(1)) expr = { kind: 'and', left: expr, right: { kind: 'spanset', condition: c } };
  return expr;
}
