/**
 * Jaeger's query APIs, under `/jaeger` on the query port (the Jaeger UI's query base and
 * Grafana's Jaeger datasource URL).
 *
 * v1 (Jaeger UI, Grafana), envelope {data, total, limit, offset, errors}:
 *   GET /api/services
 *   GET /api/services/{service}/operations
 *   GET /api/operations?service=&spanKind=
 *   GET /api/traces?service=&operation=&tags=&start=&end=&minDuration=&maxDuration=&limit=&lookback=
 *   GET /api/traces/{traceID}
 * v3 (OTLP JSON, as jaeger-idl api_v3's HTTP gateway answers):
 *   GET /api/v3/services · /api/v3/operations?service=&span_kind= · /api/v3/traces/{trace_id}
 *   GET /api/v3/traces?query.service_name=&query.operation_name=&query.start_time_min=…
 *
 * v1 errors answer in Jaeger's envelope (`errors: [{code, msg}]`), which the UI shows.
 */
import { S3ParquetError, toS3ParquetError } from '../../errors.js';
import type { RecordSource } from '../record-source.js';
import { intParam, retryAfter, sendJson, type ReadRoute, type RouteContext } from '../read-routes.js';
import { distinctValues } from '../spans/distinct-scan.js';
import { resourceSpansJson } from '../spans/otlp-trace.js';
import { searchTraces } from '../spans/search.js';
import { fetchTrace, fetchTraces, normalizeTraceId } from '../spans/trace-fetch.js';
import type { SpanView } from '../spans/span-view.js';
import { parseRfc3339Ns } from '../time.js';
import type { Condition, SpansetExpr } from '../traceql/index.js';
import { jaegerTrace } from './model.js';
import { goDuration, jaegerRange, jaegerTags } from './params.js';

const HOUR_NS = 3_600_000_000_000n;
/** How far back services and operations are looked for (the UI sends no range for them). */
export const CATALOG_LOOKBACK_NS = 7n * 24n * HOUR_NS;
const TRACE_SLACK_NS = HOUR_NS;
const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

function envelope(data: unknown, total: number): Record<string, unknown> {
  return { data, total, limit: 0, offset: 0, errors: null };
}

/** v1 answers errors in Jaeger's own envelope, so the UI shows the message. */
function v1(handle: (ctx: RouteContext) => Promise<void>): (ctx: RouteContext) => Promise<void> {
  return async (ctx) => {
    try {
      await handle(ctx);
    } catch (e) {
      const err = toS3ParquetError(e);
      if (err.httpStatus >= 500 || ctx.res.headersSent) throw err;
      retryAfter(ctx.res, err);
      sendJson(ctx.res, err.httpStatus, { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: err.httpStatus, msg: err.message }] });
    }
  };
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

async function services(source: RecordSource, nowNs: bigint): Promise<string[]> {
  return (await distinctValues(source, { startNs: nowNs - CATALOG_LOOKBACK_NS, endNs: nowNs + TRACE_SLACK_NS, select: ['service_name'], filter: 'service_name IS NOT NULL', extract: (r) => (typeof r.service_name === 'string' ? [r.service_name] : []) })).values;
}

async function operations(source: RecordSource, nowNs: bigint, service: string, kind: string | null): Promise<{ name: string; spanKind: string }[]> {
  if (kind !== null && kind !== '' && !(KINDS as readonly string[]).includes(kind.toLowerCase())) {
    throw new S3ParquetError('INVALID_ARGUMENT', `invalid "spanKind" ${JSON.stringify(kind)}: expected one of ${KINDS.join(', ')}`);
  }
  const filter = `service_name = ${quote(service)}${kind ? ` AND kind = ${quote(kind.toUpperCase())}` : ''}`;
  const found = await distinctValues(source, { startNs: nowNs - CATALOG_LOOKBACK_NS, endNs: nowNs + TRACE_SLACK_NS, select: ['name', 'kind'], filter, extract: (r) => [JSON.stringify([r.name, r.kind])] });
  return found.values.map((v) => {
    const [name, k] = JSON.parse(v) as [string, string];
    return { name, spanKind: k === 'UNSPECIFIED' ? '' : k.toLowerCase() };
  });
}

/** Jaeger's search conditions, all on one span (as Jaeger's storages match them). */
function searchExpr(o: { service: string | null; operation: string | null; tags: [string, string][]; minDuration?: bigint | undefined; maxDuration?: bigint | undefined }): SpansetExpr {
  const conds: Condition[] = [];
  if (o.service) conds.push({ kind: 'cmp', left: { kind: 'attr', scope: 'resource', key: 'service.name' }, op: '=', value: { type: 'string', value: o.service } });
  if (o.operation) conds.push({ kind: 'cmp', left: { kind: 'intrinsic', name: 'name' }, op: '=', value: { type: 'string', value: o.operation } });
  for (const [k, v] of o.tags) {
    if (k === 'error' && v === 'true') conds.push({ kind: 'cmp', left: { kind: 'intrinsic', name: 'status' }, op: '=', value: { type: 'status', value: 'error' } });
    else if (k === 'otel.status_code' && ['ERROR', 'OK', 'UNSET'].includes(v.toUpperCase())) conds.push({ kind: 'cmp', left: { kind: 'intrinsic', name: 'status' }, op: '=', value: { type: 'status', value: v.toLowerCase() as 'error' | 'ok' | 'unset' } });
    else if (k === 'span.kind' && (KINDS as readonly string[]).includes(v.toLowerCase())) conds.push({ kind: 'cmp', left: { kind: 'intrinsic', name: 'kind' }, op: '=', value: { type: 'kind', value: v.toLowerCase() as (typeof KINDS)[number] } });
    else conds.push({ kind: 'cmp', left: { kind: 'attr', scope: 'any', key: k }, op: '=', value: { type: 'string', value: v } });
  }
  if (o.minDuration !== undefined) conds.push({ kind: 'cmp', left: { kind: 'intrinsic', name: 'duration' }, op: '>=', value: { type: 'duration', value: o.minDuration } });
  if (o.maxDuration !== undefined) conds.push({ kind: 'cmp', left: { kind: 'intrinsic', name: 'duration' }, op: '<=', value: { type: 'duration', value: o.maxDuration } });
  const condition = conds.reduce<Condition>((acc, c) => (acc.kind === 'all' ? c : { kind: 'and', left: acc, right: c }), { kind: 'all' });
  return { kind: 'spanset', condition };
}

/** Finds traces and reads them whole, newest first. */
async function findTraces(source: RecordSource, expr: SpansetExpr, range: { startNs: bigint; endNs: bigint }, limit: number): Promise<[string, SpanView[]][]> {
  const found = await searchTraces(source, { expr, startNs: range.startNs, endNs: range.endNs, limit });
  const ids = found.traces.map((t) => t.traceId);
  const spans = await fetchTraces(source, ids, { start: range.startNs - TRACE_SLACK_NS, end: range.endNs + TRACE_SLACK_NS });
  return ids.filter((id) => spans.has(id)).map((id) => [id, spans.get(id)!]);
}

function required(ctx: RouteContext, name: string): string {
  const v = ctx.query.get(name);
  if (v === null || v.trim() === '') throw new S3ParquetError('INVALID_ARGUMENT', `parameter "${name}" is required`);
  return v;
}

function rfc3339Param(ctx: RouteContext, name: string): bigint | undefined {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return undefined;
  const ns = parseRfc3339Ns(raw);
  if (ns === null) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "${name}" ${JSON.stringify(raw)}: expected an RFC 3339 time such as 2024-01-01T00:00:00Z`);
  return ns;
}

export function jaegerRoutes(): ReadRoute[] {
  return [
    {
      path: '/api/services',
      handle: v1(async (ctx) => {
        const s = await services(ctx.source, ctx.nowNs);
        sendJson(ctx.res, 200, envelope(s, s.length));
      }),
    },
    {
      path: '/api/services/:service/operations',
      handle: v1(async (ctx) => {
        const ops = await operations(ctx.source, ctx.nowNs, ctx.params.service ?? '', null);
        const names = [...new Set(ops.map((o) => o.name))].sort();
        sendJson(ctx.res, 200, envelope(names, names.length));
      }),
    },
    {
      path: '/api/operations',
      handle: v1(async (ctx) => {
        const ops = await operations(ctx.source, ctx.nowNs, required(ctx, 'service'), ctx.query.get('spanKind'));
        sendJson(ctx.res, 200, envelope(ops, ops.length));
      }),
    },
    {
      path: '/api/traces',
      handle: v1(async (ctx) => {
        const q = ctx.query;
        const limit = intParam(q, 'limit', 20, 1, 1500);
        const range = jaegerRange(q, ctx.nowNs, HOUR_NS);
        const ids = q.getAll('traceID');
        if (ids.length > 0) {
          const want = ids.map((i) => normalizeTraceId(i, 'traceID'));
          const spans = await fetchTraces(ctx.source, want, {});
          const data = want.filter((id) => spans.has(id)).map((id) => jaegerTrace(id, spans.get(id)!));
          return sendJson(ctx.res, 200, envelope(data, data.length));
        }
        const expr = searchExpr({
          service: required(ctx, 'service'),
          operation: q.get('operation'),
          tags: jaegerTags(q),
          minDuration: goDuration(q, 'minDuration'),
          maxDuration: goDuration(q, 'maxDuration'),
        });
        const traces = await findTraces(ctx.source, expr, range, limit);
        const data = traces.map(([id, spans]) => jaegerTrace(id, spans));
        sendJson(ctx.res, 200, envelope(data, data.length));
      }),
    },
    {
      path: '/api/traces/:traceID',
      handle: v1(async (ctx) => {
        const id = normalizeTraceId(ctx.params.traceID ?? '', 'traceID');
        const spans = await fetchTrace(ctx.source, id);
        sendJson(ctx.res, 200, envelope([jaegerTrace(id, spans)], 1));
      }),
    },
    {
      path: '/api/v3/services',
      handle: async (ctx) => sendJson(ctx.res, 200, { services: await services(ctx.source, ctx.nowNs) }),
    },
    {
      path: '/api/v3/operations',
      handle: async (ctx) => {
        const ops = await operations(ctx.source, ctx.nowNs, required(ctx, 'service'), ctx.query.get('span_kind'));
        sendJson(ctx.res, 200, { operations: ops });
      },
    },
    {
      path: '/api/v3/traces/:traceID',
      handle: async (ctx) => {
        const id = normalizeTraceId(ctx.params.traceID ?? '', 'trace_id');
        const start = rfc3339Param(ctx, 'start_time');
        const end = rfc3339Param(ctx, 'end_time');
        const spans = await fetchTrace(ctx.source, id, { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) });
        sendJson(ctx.res, 200, { result: { resourceSpans: resourceSpansJson(spans) } });
      },
    },
    {
      path: '/api/v3/traces',
      handle: async (ctx) => {
        const q = ctx.query;
        const end = rfc3339Param(ctx, 'query.start_time_max') ?? ctx.nowNs;
        const start = rfc3339Param(ctx, 'query.start_time_min') ?? end - HOUR_NS;
        if (start >= end) throw new S3ParquetError('INVALID_ARGUMENT', 'invalid "query.start_time_min": it is not before "query.start_time_max"');
        const limit = intParam(q, 'query.search_depth', 20, 1, 1500);
        const attrs = q.get('query.attributes');
        const tags = new URLSearchParams();
        if (attrs) tags.set('tags', attrs);
        const expr = searchExpr({
          service: required(ctx, 'query.service_name'),
          operation: q.get('query.operation_name'),
          tags: jaegerTags(tags),
          minDuration: goDuration(q, 'query.duration_min'),
          maxDuration: goDuration(q, 'query.duration_max'),
        });
        const traces = await findTraces(ctx.source, expr, { startNs: start, endNs: end + 1n }, limit);
        sendJson(ctx.res, 200, { result: { resourceSpans: traces.flatMap(([, spans]) => resourceSpansJson(spans)) } });
      },
    },
  ];
}
