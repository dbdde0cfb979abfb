/**
 * Summary endpoints on the query port, the server-side aggregations the web UI needs and
 * `/api/v1/query` does not give (bounded: limits on traces, buckets, groups and streams):
 *
 *   GET /api/v1/trace-search?service&name&status&min_duration_ms&attr=k=v…&start&end&limit
 *   GET /api/v1/log-histogram?filter&start&end&buckets
 *   GET /api/v1/metric-names?start&end
 *   GET /api/v1/metric-series?name&group_by&start&end&buckets
 *   GET /api/v1/changes-head?dataset      the cursor at the end of the write log (a live tail starts there)
 *
 * Times are RFC 3339 (default: the last hour). The caller has checked the bearer token.
 */
import type { ServerResponse } from 'node:http';
import { S3ParquetError } from '../../errors.js';
import type { ChangesOptions, ChangesResult } from '../engine.js';
import type { RecordSource } from '../record-source.js';
import { logHistogram } from './log-histogram.js';
import { metricNames, metricSeries } from './metric-series.js';
import { checkKnown, intParam, rangeParam } from './params.js';
import { searchTraces, type TraceSearch } from './trace-search.js';

export const SUMMARY_PATHS = ['/api/v1/trace-search', '/api/v1/log-histogram', '/api/v1/metric-names', '/api/v1/metric-series', '/api/v1/changes-head'] as const;

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function traceSearchFrom(p: URLSearchParams, nowMs: number): TraceSearch {
  checkKnown(p, ['service', 'name', 'status', 'min_duration_ms', 'attr', 'start', 'end', 'limit']);
  const status = p.get('status') || undefined;
  if (status !== undefined && status !== 'OK' && status !== 'ERROR' && status !== 'UNSET') throw new S3ParquetError('INVALID_ARGUMENT', `"status" must be OK, ERROR or UNSET, got ${JSON.stringify(status)}`);
  const minMs = p.get('min_duration_ms') || undefined;
  if (minMs !== undefined && !/^\d+(\.\d{1,6})?$/.test(minMs)) throw new S3ParquetError('INVALID_ARGUMENT', `"min_duration_ms" must be a number of milliseconds >= 0, got ${JSON.stringify(minMs)}`);
  const attributes = p.getAll('attr').filter((a) => a !== '').map((a): [string, string] => {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new S3ParquetError('INVALID_ARGUMENT', `"attr" must be key=value, got ${JSON.stringify(a)}`);
    return [a.slice(0, eq).trim(), a.slice(eq + 1).trim()];
  });
  if (attributes.length > 10) throw new S3ParquetError('INVALID_ARGUMENT', `at most 10 "attr" conditions, got ${attributes.length}`);
  return {
    ...(p.get('service') ? { service: p.get('service')! } : {}),
    ...(p.get('name') ? { name: p.get('name')! } : {}),
    ...(status ? { status } : {}),
    ...(minMs !== undefined ? { minDurationNs: BigInt(Math.round(Number(minMs) * 1e6)) } : {}),
    attributes,
    ...rangeParam(p, nowMs),
    limit: intParam(p, 'limit', 100, 1, 1000),
  };
}

/** What the summaries read: records (a worker pool's in a daemon), and the write log's changes (on this thread). */
export interface SummarySource {
  readonly records: RecordSource;
  changes(o: ChangesOptions): Promise<ChangesResult>;
}

/** Answers a summary request and returns true, or false when the path is not one of them. */
export async function serveSummary(s: SummarySource, path: string, method: string, p: URLSearchParams, res: ServerResponse, nowMs: number): Promise<boolean> {
  if (!(SUMMARY_PATHS as readonly string[]).includes(path)) return false;
  if (method !== 'GET') throw new S3ParquetError('METHOD_NOT_ALLOWED', `use GET ${path}`);
  switch (path) {
    case '/api/v1/trace-search':
      sendJson(res, await searchTraces(s.records, traceSearchFrom(p, nowMs)));
      return true;
    case '/api/v1/log-histogram': {
      checkKnown(p, ['filter', 'start', 'end', 'buckets']);
      const filter = p.get('filter')?.trim();
      sendJson(res, await logHistogram(s.records, { ...rangeParam(p, nowMs), buckets: intParam(p, 'buckets', 60, 1, 500), ...(filter ? { filter } : {}) }));
      return true;
    }
    case '/api/v1/metric-names':
      checkKnown(p, ['start', 'end']);
      sendJson(res, await metricNames(s.records, rangeParam(p, nowMs)));
      return true;
    case '/api/v1/metric-series': {
      checkKnown(p, ['name', 'group_by', 'start', 'end', 'buckets']);
      const name = p.get('name');
      if (!name) throw new S3ParquetError('INVALID_ARGUMENT', '"name" (a metric name) is required');
      const groupBy = p.get('group_by') || undefined;
      sendJson(res, await metricSeries(s.records, { name, ...(groupBy ? { groupBy } : {}), ...rangeParam(p, nowMs), buckets: intParam(p, 'buckets', 120, 2, 1000) }));
      return true;
    }
    default: {
      checkKnown(p, ['dataset']);
      const dataset = p.get('dataset') ?? '';
      // Walk the log to its end without reading a record: each read names files, not rows.
      let cursor: string | undefined;
      for (;;) {
        const c = await s.changes({ dataset, ...(cursor !== undefined ? { cursor } : {}), maxEntries: 100_000 });
        cursor = c.nextCursor;
        if (!c.more) break;
      }
      sendJson(res, { dataset, cursor });
      return true;
    }
  }
}
