/**
 * Reading whole traces through the engine's public `query`: `trace_id IN (…)` pins the sorted
 * `trace_id` column, so blooms, footer statistics and the page index keep each lookup narrow.
 */
import { S3ParquetError } from '../../errors.js';
import { emptyStats, type QueryStats } from '../engine.js';
import type { RecordSource } from '../record-source.js';
import { OUTLINE_COLUMNS, spanColumns, spanFromRecord, type SpanView } from './span-view.js';

/** Ids per `IN` list: long lists make the filter text (and its parse) big for little gain. */
const IDS_PER_QUERY = 200;

/**
 * A trace id as clients write it → 32 lowercase hex digits. Shorter ids are left-padded with
 * zeros (Jaeger's 64-bit ids, Tempo does the same); anything else is a 400 naming `param`.
 */
export function normalizeTraceId(raw: string, param = 'traceID'): string {
  const id = raw.trim().toLowerCase();
  if (!/^[0-9a-f]{1,32}$/.test(id)) throw new S3ParquetError('INVALID_ARGUMENT', `invalid ${param} ${JSON.stringify(raw)}: expected up to 32 hex digits`);
  return id.padStart(32, '0');
}

export interface TimeRange {
  readonly start?: bigint;
  readonly end?: bigint;
}

function rangeOf(r: TimeRange): { start?: bigint; end?: bigint } {
  return { ...(r.start !== undefined ? { start: r.start } : {}), ...(r.end !== undefined ? { end: r.end } : {}) };
}

function inList(ids: readonly string[]): string {
  return `trace_id IN (${ids.map((i) => `'${i}'`).join(', ')})`;
}

/** The spans of each trace (full spans, or only the outline's columns), sorted by start time. */
export async function fetchTraces(
  source: RecordSource,
  ids: readonly string[],
  range: TimeRange,
  o: { outline?: boolean; stats?: QueryStats } = {},
): Promise<Map<string, SpanView[]>> {
  const promoted = source.catalog('traces').promoted;
  const select = o.outline ? [...OUTLINE_COLUMNS] : spanColumns(promoted);
  const out = new Map<string, SpanView[]>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const chunk = ids.slice(i, i + IDS_PER_QUERY);
    const stats = emptyStats();
    for await (const rec of source.query({ dataset: 'traces', filter: inList(chunk), select, ...rangeOf(range) }, stats)) {
      const span = spanFromRecord(rec, o.outline ? [] : promoted);
      let list = out.get(span.traceId);
      if (!list) out.set(span.traceId, (list = []));
      list.push(span);
    }
    if (o.stats) addStats(o.stats, stats);
  }
  for (const list of out.values()) list.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  return out;
}

/** One trace's spans (sorted by start), or a NOT_FOUND naming the id. */
export async function fetchTrace(source: RecordSource, id: string, range: TimeRange = {}): Promise<SpanView[]> {
  const spans = (await fetchTraces(source, [id], range)).get(id);
  if (!spans || spans.length === 0) throw new S3ParquetError('NOT_FOUND', `trace ${id} not found`);
  return spans;
}

export function addStats(into: QueryStats, from: QueryStats): void {
  for (const k of Object.keys(into) as (keyof QueryStats)[]) into[k] += from[k];
}
