/**
 * Trace search for the UI: the traces with at least one span matching the conditions in a time
 * range, each summarised (root service and name, start, duration, span count, error flag).
 *
 * Two bounded passes over the engine: the matching spans' trace ids (at most `limit` distinct,
 * the scan stops there), then every span of those traces (ids in chunks, so a filter stays
 * small) over the range widened by an hour each side, since a trace may straddle its edges.
 */
import type { QueryStats } from '../engine.js';
import type { RecordSource } from '../record-source.js';
import { emptyStats } from '../engine.js';
import type { ColumnCatalog } from '../filter/index.js';
import { promotedColumnName } from '../../schema/promoted.js';
import { nsToMs, quote, timeNs } from './params.js';

export interface TraceSearch {
  readonly service?: string;
  readonly name?: string;
  readonly status?: 'OK' | 'ERROR' | 'UNSET';
  readonly minDurationNs?: bigint;
  /** `key=value` conditions on span or resource attributes (promoted columns included). */
  readonly attributes: readonly (readonly [string, string])[];
  readonly start: bigint;
  readonly end: bigint;
  readonly limit: number;
}

export interface TraceSummary {
  trace_id: string;
  start_time: string;
  start_ms: number;
  duration_ms: number;
  root_service: string | null;
  root_name: string | null;
  span_count: number;
  error_count: number;
}

const IDS_PER_LOOKUP = 50;
const WIDEN_NS = 3_600_000_000_000n;

/** One attribute condition: the map entries, and the promoted column when the key has one. */
export function attributeCondition(key: string, value: string, columns: ColumnCatalog): string {
  const parts = [`attributes[${quote(key)}] = ${quote(value)}`, `resource_attributes[${quote(key)}] = ${quote(value)}`];
  const col = promotedColumnName(key);
  const type = columns.get(col);
  if (type === 'string') parts.push(`"${col}" = ${quote(value)}`);
  else if ((type === 'int' || type === 'float') && /^-?\d+(\.\d+)?$/.test(value)) parts.push(`"${col}" = ${value}`);
  else if (type === 'bool' && (value === 'true' || value === 'false')) parts.push(`"${col}" = ${value.toUpperCase()}`);
  return `(${parts.join(' OR ')})`;
}

export function traceSearchFilter(s: TraceSearch, columns: ColumnCatalog): string | undefined {
  const c: string[] = [];
  if (s.service) c.push(`service_name = ${quote(s.service)}`);
  if (s.name) c.push(`name = ${quote(s.name)}`);
  if (s.status) c.push(`status_code = ${quote(s.status)}`);
  if (s.minDurationNs !== undefined) c.push(`duration_ns >= ${s.minDurationNs}`);
  for (const [k, v] of s.attributes) c.push(attributeCondition(k, v, columns));
  return c.length > 0 ? c.join(' AND ') : undefined;
}

export async function searchTraces(source: RecordSource, s: TraceSearch): Promise<{ traces: TraceSummary[]; truncated: boolean; stats: QueryStats }> {
  const stats = emptyStats();
  const filter = traceSearchFilter(s, source.catalog('traces').filterColumns);
  const ids = new Set<string>();
  let truncated = false;
  for await (const rec of source.query({ dataset: 'traces', start: s.start, end: s.end, select: ['trace_id'], ...(filter ? { filter } : {}) }, stats)) {
    const id = rec.trace_id;
    if (typeof id !== 'string' || ids.has(id)) continue;
    if (ids.size === s.limit) {
      truncated = true;
      break;
    }
    ids.add(id);
  }
  const acc = new Map<string, { start: bigint; end: bigint; root: { service: string | null; name: string | null; start: bigint } | null; first: { service: string | null; name: string | null; start: bigint } | null; spans: number; errors: number }>();
  const all = [...ids];
  for (let i = 0; i < all.length; i += IDS_PER_LOOKUP) {
    const chunk = all.slice(i, i + IDS_PER_LOOKUP);
    const q = {
      dataset: 'traces',
      start: s.start - WIDEN_NS,
      end: s.end + WIDEN_NS,
      filter: `trace_id IN (${chunk.map(quote).join(', ')})`,
      select: ['trace_id', 'parent_span_id', 'service_name', 'name', 'start_time', 'end_time', 'status_code'],
    };
    for await (const rec of source.query(q, stats)) {
      const id = rec.trace_id as string;
      const start = timeNs(rec.start_time) ?? 0n;
      const end = timeNs(rec.end_time) ?? start;
      let a = acc.get(id);
      if (!a) acc.set(id, (a = { start, end, root: null, first: null, spans: 0, errors: 0 }));
      a.spans++;
      if (rec.status_code === 'ERROR') a.errors++;
      if (start < a.start) a.start = start;
      if (end > a.end) a.end = end;
      const who = { service: (rec.service_name as string | null) ?? null, name: (rec.name as string | null) ?? null, start };
      if (rec.parent_span_id === null || rec.parent_span_id === '') {
        if (!a.root || start < a.root.start) a.root = who;
      } else if (!a.first || start < a.first.start) a.first = who;
    }
  }
  const traces: TraceSummary[] = [];
  for (const [id, a] of acc) {
    // A trace whose root span has not arrived (or lies outside the range) is named by its earliest span.
    const root = a.root ?? a.first;
    const startMs = nsToMs(a.start);
    traces.push({
      trace_id: id,
      start_time: new Date(Math.floor(startMs)).toISOString(),
      start_ms: startMs,
      duration_ms: Number(a.end - a.start) / 1e6,
      root_service: root?.service ?? null,
      root_name: root?.name ?? null,
      span_count: a.spans,
      error_count: a.errors,
    });
  }
  traces.sort((x, y) => y.start_ms - x.start_ms);
  return { traces, truncated, stats };
}
