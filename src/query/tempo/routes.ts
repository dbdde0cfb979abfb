/**
 * Grafana's Tempo datasource API, under `/tempo` on the query port.
 *
 *   GET /api/echo                         → "echo"
 *   GET /api/status/buildinfo             → {version, revision, branch, buildDate, goVersion}
 *   GET /api/v2/traces/{traceID}          → tempopb.TraceByIDResponse (protobuf) or {"trace":{resourceSpans}}
 *   GET /api/traces/{traceID}             → tempopb.Trace (protobuf) or {"resourceSpans":[…]}
 *   GET /api/search?q=&limit=&spss=&start=&end=   (legacy tags=, minDuration=, maxDuration=)
 *   GET /api/search/tags, /api/v2/search/tags
 *   GET /api/search/tag/{tag}/values, /api/v2/search/tag/{scoped tag}/values
 *
 * Protobuf answers when the client accepts `application/protobuf` (Grafana does), OTLP/JSON
 * otherwise. Times are Unix seconds, as in Tempo.
 */
import { S3ParquetError, toS3ParquetError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { intParam, retryAfter, sendBytes, sendJson, type ReadRoute, type RouteContext } from '../read-routes.js';
import { resourceSpansJson, tracesDataProto } from '../spans/otlp-trace.js';
import { fetchTrace, normalizeTraceId } from '../spans/trace-fetch.js';
import { searchTraces } from '../spans/search.js';
import { parseTraceQL, pruneFilter, TraceQLError } from '../traceql/index.js';
import { durationParam, logfmtTags, optionalRange, timeRange } from './params.js';
import { searchResponse } from './search-response.js';
import { tagNames, tagValues } from './tags.js';
import { legacySearchExpr } from './legacy-search.js';

/**
 * The Tempo version reported to Grafana, which picks features by it: 2.7 has TraceQL search,
 * scoped tags (v2 tag APIs) and the v2 trace-by-id endpoint, all of which we serve.
 */
export const TEMPO_COMPATIBLE_VERSION = '2.7.0';

const HOUR_NS = 3_600_000_000_000n;
const DAY_NS = 24n * HOUR_NS;

function wantsProtobuf(ctx: RouteContext): boolean {
  return /application\/protobuf/i.test(ctx.req.headers.accept ?? '');
}

/** A length-delimited protobuf field (wire type 2) holding `body`. */
function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  const head: number[] = [(field << 3) | 2];
  let n = body.byteLength;
  while (n > 0x7f) {
    head.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  head.push(n);
  return Buffer.concat([Buffer.from(head), body]);
}

async function traceSpans(ctx: RouteContext) {
  const id = normalizeTraceId(ctx.params.traceID ?? '', 'traceID');
  return fetchTrace(ctx.source, id, optionalRange(ctx.query));
}

async function search(ctx: RouteContext): Promise<void> {
  const q = ctx.query;
  const limit = intParam(q, 'limit', 20, 1, 1000);
  const spss = intParam(q, 'spss', 3, 1, 1000);
  const { startNs, endNs } = timeRange(q, ctx.nowNs, HOUR_NS);
  const traceql = q.get('q');
  const tags = q.get('tags');
  const minDuration = durationParam(q, 'minDuration');
  const maxDuration = durationParam(q, 'maxDuration');
  if (traceql !== null && traceql.trim() !== '' && (tags || minDuration !== undefined || maxDuration !== undefined)) {
    throw new S3ParquetError('INVALID_ARGUMENT', 'invalid "q": a TraceQL query cannot be combined with the legacy "tags", "minDuration" or "maxDuration"');
  }
  const expr = traceql !== null && traceql.trim() !== '' ? parseTraceQL(traceql) : legacySearchExpr(tags ? logfmtTags(tags) : [], minDuration, maxDuration);
  const result = await searchTraces(ctx.source, { expr, startNs, endNs, limit });
  // Tempo's SearchMetrics has no field for it: a search stopped by its work bound says so here.
  if (result.truncated) ctx.res.setHeader('X-Search-Truncated', 'true');
  sendJson(ctx.res, 200, searchResponse(result, expr, spss));
}

function tagRange(ctx: RouteContext): { startNs: bigint; endNs: bigint } {
  const { startNs, endNs } = timeRange(ctx.query, ctx.nowNs, DAY_NS);
  return { startNs, endNs };
}

/** The TraceQL query Grafana sends while one is being written narrows tag values; an unfinished one does not. */
function narrowing(ctx: RouteContext): string | undefined {
  const q = ctx.query.get('q');
  if (q === null || q.trim() === '') return undefined;
  try {
    return pruneFilter(parseTraceQL(q), ctx.source.catalog('traces').promoted);
  } catch (err) {
    if (err instanceof TraceQLError) return undefined;
    throw err;
  }
}

/** Grafana may encode the tag twice (`resource.service%252Ename`). */
function tagParam(ctx: RouteContext): string {
  let tag = ctx.params.tag ?? '';
  for (let i = 0; i < 2 && /%[0-9A-Fa-f]{2}/.test(tag); i++) {
    try {
      tag = decodeURIComponent(tag);
    } catch {
      throw new S3ParquetError('INVALID_ARGUMENT', `invalid tag ${JSON.stringify(ctx.params.tag)}: bad percent-encoding`);
    }
  }
  if (tag === '') throw new S3ParquetError('INVALID_ARGUMENT', 'the tag name is empty');
  return tag;
}

/** Tempo answers client errors as plain text, which Grafana shows as it is. */
function plainErrors(route: ReadRoute): ReadRoute {
  return {
    path: route.path,
    handle: async (ctx) => {
      try {
        await route.handle(ctx);
      } catch (e) {
        const err = toS3ParquetError(e);
        if (err.httpStatus >= 500 || ctx.res.headersSent) throw err;
        retryAfter(ctx.res, err);
        const body = Buffer.from(err.message, 'utf8');
        ctx.res.writeHead(err.httpStatus, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.byteLength });
        ctx.res.end(body);
      }
    },
  };
}

export function tempoRoutes(): ReadRoute[] {
  return tempoRouteTable().map(plainErrors);
}

function tempoRouteTable(): ReadRoute[] {
  return [
    { path: '/api/echo', handle: async (ctx) => sendBytes(ctx.res, 'text/plain; charset=utf-8', 'echo') },
    {
      path: '/api/status/buildinfo',
      handle: async (ctx) => sendJson(ctx.res, 200, { version: TEMPO_COMPATIBLE_VERSION, revision: `s3-parquet-connector-${VERSION}`, branch: 'main', buildDate: '', buildUser: '', goVersion: '' }),
    },
    {
      path: '/api/v2/traces/:traceID',
      handle: async (ctx) => {
        const spans = await traceSpans(ctx);
        // TraceByIDResponse: trace = 1 (a tempopb.Trace, i.e. TracesData); status = 3 COMPLETE is the default (omitted).
        if (wantsProtobuf(ctx)) return sendBytes(ctx.res, 'application/protobuf', lengthDelimited(1, tracesDataProto(spans)));
        sendJson(ctx.res, 200, { trace: { resourceSpans: resourceSpansJson(spans) }, status: 'COMPLETE' });
      },
    },
    {
      path: '/api/traces/:traceID',
      handle: async (ctx) => {
        const spans = await traceSpans(ctx);
        if (wantsProtobuf(ctx)) return sendBytes(ctx.res, 'application/protobuf', tracesDataProto(spans));
        sendJson(ctx.res, 200, { resourceSpans: resourceSpansJson(spans) });
      },
    },
    { path: '/api/search', handle: search },
    {
      path: '/api/search/tags',
      handle: async (ctx) => {
        const scope = ctx.query.get('scope') ?? 'all';
        if (!['all', 'span', 'resource', 'intrinsic'].includes(scope)) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "scope" ${JSON.stringify(scope)}: expected span, resource, intrinsic or all`);
        const t = await tagNames(ctx.source, tagRange(ctx));
        const names = scope === 'all' ? [...new Set([...t.span, ...t.resource])].sort() : t[scope as 'span' | 'resource' | 'intrinsic'];
        sendJson(ctx.res, 200, { tagNames: names });
      },
    },
    {
      path: '/api/v2/search/tags',
      handle: async (ctx) => {
        const scope = ctx.query.get('scope') ?? 'all';
        if (!['all', 'span', 'resource', 'intrinsic'].includes(scope)) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "scope" ${JSON.stringify(scope)}: expected span, resource, intrinsic or all`);
        const t = await tagNames(ctx.source, tagRange(ctx));
        const scopes = (['resource', 'span', 'intrinsic'] as const).filter((s) => scope === 'all' || scope === s).map((s) => ({ name: s, tags: t[s] }));
        sendJson(ctx.res, 200, { scopes });
      },
    },
    {
      path: '/api/search/tag/:tag/values',
      handle: async (ctx) => {
        const tag = tagParam(ctx);
        const scoped = tag.startsWith('.') || tag.startsWith('span.') || tag.startsWith('resource.') || ['name', 'status', 'kind', 'statusMessage', 'rootName', 'rootServiceName'].includes(tag) ? tag : `.${tag}`;
        const v = await tagValues(ctx.source, scoped, tagRange(ctx), narrowing(ctx));
        sendJson(ctx.res, 200, { tagValues: v.values });
      },
    },
    {
      path: '/api/v2/search/tag/:tag/values',
      handle: async (ctx) => {
        const v = await tagValues(ctx.source, tagParam(ctx), tagRange(ctx), narrowing(ctx));
        sendJson(ctx.res, 200, { tagValues: v.values.map((value) => ({ type: v.type, value })) });
      },
    },
  ];
}
