/**
 * A search result as Tempo answers it (tempopb.SearchResponse in proto3 JSON): newest first,
 * up to `spss` spans per spanset with the attributes the query named, `matched` the full count.
 */
import type { SearchResult } from '../spans/search.js';
import type { SpanView } from '../spans/span-view.js';
import { keyValues } from '../spans/otlp-trace.js';
import type { AttrValue } from '../spans/span-view.js';
import { spansets, type Condition, type SpansetExpr } from '../traceql/index.js';

/** Tempo's placeholder when the root span is not (yet) in the range read. */
export const NO_ROOT = '<root span not yet received>';

function namedAttributes(c: Condition, into: Set<string>): void {
  if (c.kind === 'and' || c.kind === 'or') {
    namedAttributes(c.left, into);
    namedAttributes(c.right, into);
  } else if (c.kind === 'cmp' && c.left.kind === 'attr') {
    into.add(`${c.left.scope}\u0000${c.left.key}`);
  }
}

function spanAttributes(span: SpanView, named: ReadonlySet<string>): Map<string, AttrValue> {
  const out = new Map<string, AttrValue>();
  for (const n of named) {
    const [scope, key] = n.split('\u0000') as [string, string];
    const v = scope === 'resource' ? (span.resource.get(key) ?? (key === 'service.name' ? (span.serviceName ?? undefined) : undefined)) : scope === 'span' ? span.attributes.get(key) : (span.attributes.get(key) ?? span.resource.get(key));
    if (v !== undefined) out.set(key, v);
  }
  if (span.serviceName !== null && !out.has('service.name')) out.set('service.name', span.serviceName);
  return out;
}

export function searchResponse(result: SearchResult, expr: SpansetExpr, spss: number): Record<string, unknown> {
  const named = new Set<string>();
  for (const c of spansets(expr)) namedAttributes(c, named);
  const traces = result.traces.map((t) => {
    const spanSet = {
      spans: t.matched.slice(0, spss).map((s) => ({
        spanID: s.spanId,
        name: s.name,
        startTimeUnixNano: s.startNs.toString(),
        durationNanos: s.durationNs.toString(),
        attributes: keyValues(spanAttributes(s, named)),
      })),
      matched: t.matched.length,
    };
    return {
      traceID: t.traceId,
      rootServiceName: t.rootServiceName ?? NO_ROOT,
      ...(t.rootTraceName !== null ? { rootTraceName: t.rootTraceName } : {}),
      startTimeUnixNano: t.startNs.toString(),
      durationMs: Number(t.durationNs / 1_000_000n),
      spanSet,
      spanSets: [spanSet],
    };
  });
  return {
    traces,
    metrics: { inspectedTraces: result.inspectedTraces, inspectedBytes: String(result.inspectedBytes), completedJobs: 1, totalJobs: 1 },
  };
}
