/**
 * Bounded trace search for the Tempo and Jaeger APIs, on the engine's public `query`.
 *
 * The time range is walked newest first in windows (an hour, or a 24th of a longer range), so
 * "newest first" costs no sort of the whole range and a search stops as soon as `limit` traces
 * are found. In each window the engine returns the candidate spans (the TraceQL condition pushed
 * down as a superset, see traceql/prune.ts, so partitions, footers, blooms and row groups are
 * pruned, reading only the columns the query needs); evaluate.ts then decides exactly, with the
 * trace's outline (root span, extent) read by trace id — newest first by the trace's earliest
 * candidate span, and only until `limit` traces are found. Work is bounded four ways: bytes read
 * (`budgetBytes`, checked between windows), rows scanned and candidate spans held (checked as
 * rows arrive), and traces outlined; a search that hits a bound stops
 * and says so (`truncated`), with what it found so far.
 */
import { emptyStats, type QueryStats } from '../engine.js';
import type { RecordSource } from '../record-source.js';
import { matchTrace, needsTrace, pruneFilter, spansets, type SpansetExpr, type TraceOutline } from '../traceql/index.js';
import { addStats, fetchTraces } from './trace-fetch.js';
import { OUTLINE_COLUMNS, spanFromRecord, type SpanView } from './span-view.js';
import { isResourceSpec, type PromotedSpec } from '../../schema/promoted.js';
import type { Condition } from '../traceql/index.js';

const HOUR_NS = 3_600_000_000_000n;
/** A trace may start before (or end after) the window its matching span is in. */
const TRACE_SLACK_NS = HOUR_NS;
export const DEFAULT_SEARCH_BUDGET_BYTES = 256 * 1024 * 1024;
/** Candidate spans held at once per request (each a few hundred bytes of memory). */
export const MAX_CANDIDATE_SPANS = 50_000;
/** Rows the engine may scan (filter evaluated) for one request. */
export const MAX_SCANNED_ROWS = 5_000_000;
/** Traces whose outline one request reads at most. */
export const MAX_OUTLINED_TRACES = 2_000;
/** Traces outlined at once when the query has trace-level conditions. */
const OUTLINE_BATCH = 200;

export interface SearchRequest {
  readonly expr: SpansetExpr;
  /** [startNs, endNs). */
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly limit: number;
  readonly budgetBytes?: number;
}

export interface FoundTrace {
  readonly traceId: string;
  readonly rootServiceName: string | null;
  readonly rootTraceName: string | null;
  readonly startNs: bigint;
  readonly durationNs: bigint;
  /** The spans that made the trace match, by start time. */
  readonly matched: readonly SpanView[];
}

export interface SearchResult {
  readonly traces: FoundTrace[];
  readonly inspectedTraces: number;
  readonly inspectedBytes: number;
  /** A bound stopped the search before the range was covered. */
  readonly truncated: boolean;
  readonly stats: QueryStats;
}

interface Outline extends TraceOutline {
  readonly startNs: bigint;
}

function outlineOf(spans: readonly SpanView[]): Outline {
  let start = spans[0]!.startNs;
  let end = spans[0]!.endNs;
  let root: SpanView | undefined;
  for (const s of spans) {
    if (s.startNs < start) start = s.startNs;
    if (s.endNs > end) end = s.endNs;
    if (s.parentSpanId === null && (root === undefined || s.startNs < root.startNs)) root = s;
  }
  return { rootName: root?.name ?? null, rootServiceName: root?.serviceName ?? null, durationNs: end - start, startNs: start };
}

/** [lo, hi) windows from newest to oldest: hours, or 24 equal parts of a longer range. */
export function windows(startNs: bigint, endNs: bigint): [bigint, bigint][] {
  const span = endNs - startNs;
  const size = span > 24n * HOUR_NS ? (span + 23n) / 24n : HOUR_NS;
  const out: [bigint, bigint][] = [];
  for (let hi = endNs; hi > startNs; hi -= size) out.push([hi - size > startNs ? hi - size : startNs, hi]);
  return out;
}

/**
 * The columns a candidate span needs: its identity and times, the intrinsics, and the attribute
 * maps (and promoted columns) only when the query names attributes. Events, links and scope are
 * never read here, which is most of a span's bytes.
 */
function candidateColumns(expr: SpansetExpr, promoted: readonly PromotedSpec[]): string[] {
  const cols = new Set([...OUTLINE_COLUMNS, 'kind', 'duration_ns', 'status_code', 'status_message']);
  const visit = (c: Condition): void => {
    if (c.kind === 'and' || c.kind === 'or') {
      visit(c.left);
      visit(c.right);
    } else if (c.kind === 'cmp' && c.left.kind === 'attr') {
      if (c.left.scope !== 'span') {
        cols.add('resource_attributes');
        for (const p of promoted) if (isResourceSpec(p)) cols.add(p.column);
      }
      if (c.left.scope !== 'resource') {
        cols.add('attributes');
        for (const p of promoted) if (!isResourceSpec(p)) cols.add(p.column);
      }
    }
  };
  for (const c of spansets(expr)) visit(c);
  return [...cols];
}

const byStartDesc = (a: FoundTrace, b: FoundTrace): number => (a.startNs > b.startNs ? -1 : a.startNs < b.startNs ? 1 : a.traceId < b.traceId ? -1 : 1);

export async function searchTraces(source: RecordSource, req: SearchRequest): Promise<SearchResult> {
  const budget = req.budgetBytes ?? DEFAULT_SEARCH_BUDGET_BYTES;
  const promoted = source.catalog('traces').promoted;
  const filter = pruneFilter(req.expr, promoted);
  const select = candidateColumns(req.expr, promoted);
  const traceLevel = spansets(req.expr).some(needsTrace);
  const found: FoundTrace[] = [];
  const seen = new Set<string>();
  const total = emptyStats();
  let candidatesHeld = 0;
  let outlined = 0;
  let truncated = false;
  const outlineRange = { start: req.startNs - TRACE_SLACK_NS, end: req.endNs + TRACE_SLACK_NS };

  for (const [lo, hi] of windows(req.startNs, req.endNs)) {
    if (found.length >= req.limit) break;
    if (total.bytes_read >= budget) {
      truncated = true;
      break;
    }
    const candidates = new Map<string, SpanView[]>();
    const stats = emptyStats();
    for await (const rec of source.query({ dataset: 'traces', start: lo, end: hi, select, ...(filter !== undefined ? { filter } : {}) }, stats)) {
      const span = spanFromRecord(rec, promoted);
      if (seen.has(span.traceId)) continue;
      let list = candidates.get(span.traceId);
      if (!list) candidates.set(span.traceId, (list = []));
      list.push(span);
      // The engine counts bytes when a query ends, rows as it goes: rows bound a window's scan.
      if (++candidatesHeld >= MAX_CANDIDATE_SPANS || total.rows_scanned + stats.rows_scanned >= MAX_SCANNED_ROWS) {
        truncated = true;
        break;
      }
    }
    addStats(total, stats);
    // Without trace-level intrinsics a trace's own spans decide; the outline is only for the answer.
    const provisional = [...candidates]
      .filter(([, spans]) => traceLevel || matchTrace(req.expr, spans, { rootName: null, rootServiceName: null, durationNs: 0n }) !== null)
      .map(([id, spans]) => ({ id, spans, firstNs: spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), spans[0]!.startNs) }))
      // Newest first by their earliest candidate span, so outlines are read only until `limit` is met.
      .sort((a, b) => (a.firstNs > b.firstNs ? -1 : a.firstNs < b.firstNs ? 1 : a.id < b.id ? -1 : 1));
    const windowFound: FoundTrace[] = [];
    for (let i = 0; i < provisional.length && found.length + windowFound.length < req.limit; ) {
      const room = MAX_OUTLINED_TRACES - outlined;
      if (room <= 0) {
        truncated = true;
        break;
      }
      // A trace-level query rejects some traces after their outline: read a bigger batch.
      const want = traceLevel ? OUTLINE_BATCH : req.limit - found.length - windowFound.length;
      const batch = provisional.slice(i, i + Math.min(room, Math.max(1, want)));
      i += batch.length;
      outlined += batch.length;
      const outlines = await fetchTraces(source, batch.map((b) => b.id), outlineRange, { outline: true, stats: total });
      for (const { id, spans: candidateSpans } of batch) {
        seen.add(id);
        const spans = outlines.get(id);
        if (!spans || spans.length === 0) continue;
        const outline = outlineOf(spans);
        const matched = matchTrace(req.expr, candidateSpans, outline);
        if (matched === null) continue;
        matched.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
        windowFound.push({ traceId: id, rootServiceName: outline.rootServiceName, rootTraceName: outline.rootName, startNs: outline.startNs, durationNs: outline.durationNs, matched });
      }
    }
    for (const p of provisional) seen.add(p.id); // judged in this window, or not needed: never again
    found.push(...windowFound.sort(byStartDesc));
    candidatesHeld = 0;
    if (truncated) break;
  }
  return { traces: found.slice(0, req.limit), inspectedTraces: seen.size, inspectedBytes: total.bytes_read, truncated, stats: total };
}
