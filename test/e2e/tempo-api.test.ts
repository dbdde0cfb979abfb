/**
 * The Tempo-compatible API under /tempo, over traces the official OTel exporters sent: answers
 * are decoded the way Grafana decodes them (protobuf with the vendored tempopb messages, JSON
 * checked field by field against them), and every trace, search result and tag value is
 * checked against DuckDB over the same files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { DERIVED_END_TIME, duckdbQuery } from '../helpers/duckdb.js';
import { CORPUS_TRACES, OLD_TRACES, sendCorpus } from '../helpers/read-api-corpus.js';
import { checkTempoJson, decodeTempo } from '../helpers/tempopb.js';
import { searchTraces } from '../../src/query/spans/search.js';
import { parseTraceQL } from '../../src/query/traceql/index.js';

const TOKEN = 'tempo-read-3f9a1c7e5b2d4068a9c1e3f5a7b9d0e2';
const NO_ROOT = '<root span not yet received>';

interface SearchTrace {
  traceID: string;
  rootServiceName: string;
  rootTraceName?: string;
  startTimeUnixNano: string;
  durationMs: number;
  spanSets: { spans: { spanID: string; startTimeUnixNano: string; durationNanos: string; attributes: { key: string; value: Record<string, unknown> }[] }[]; matched: number }[];
}
interface SearchReply {
  traces: SearchTrace[];
  metrics: { inspectedTraces: number; inspectedBytes: string };
}

describe('Tempo API', () => {
  let d: TestDaemon;
  let nowMs: number;
  let glob: string;

  const get = (path: string, accept?: string, token: string | null = TOKEN): Promise<Response> =>
    fetch(d.queryUrl(`/tempo${path}`), { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(accept ? { accept } : {}) } });
  const json = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    const body = await res.text();
    expect(res.status, body).toBe(200);
    return JSON.parse(body) as T;
  };
  const sql = (q: string) => duckdbQuery(q);
  const range = () => `start=${Math.floor(nowMs / 1000) - 3 * 3600}&end=${Math.floor(nowMs / 1000) + 60}`;

  beforeAll(async () => {
    d = await startTestDaemon(`[auth]\nquery_tokens = [${JSON.stringify(TOKEN)}]\n[buffer]\nmax_age_seconds = 3600`);
    nowMs = Date.now();
    await sendCorpus(nowMs, { grpc: d.ports.grpc!, http: d.ports.http! });
    await d.pipeline.flush();
    glob = `read_parquet('${d.dir}/data/traces/**/*.parquet', hive_partitioning = false)`;
    const n = await sql(`SELECT count(DISTINCT trace_id) AS n FROM ${glob}`);
    expect(Number(n[0]!.n)).toBe(CORPUS_TRACES);
  }, 120_000);
  afterAll(async () => {
    await d?.cleanup();
  });

  it('answers echo and a Tempo-compatible buildinfo, behind the query token', async () => {
    const echo = await get('/api/echo');
    expect(echo.status).toBe(200);
    expect(await echo.text()).toBe('echo');
    const info = await json<Record<string, string>>('/api/status/buildinfo');
    expect(Object.keys(info)).toEqual(expect.arrayContaining(['version', 'revision', 'branch', 'buildDate', 'goVersion']));
    expect(info.version).toMatch(/^2\.\d+\.\d+$/);
    expect((await get('/api/echo', undefined, null)).status).toBe(401);
    expect((await get('/api/echo', undefined, 'wrong-token-wrong-token-wrong')).status).toBe(401);
  });

  /** The spans of a trace as DuckDB reads them, in a form the decoded answers are compared with. */
  async function duckSpans(traceId: string): Promise<string[]> {
    const rows = await sql(`SELECT span_id, parent_span_id, name, kind, service_name, status_code, status_message,
        CAST(epoch_ns(start_time) AS VARCHAR) AS s, CAST(epoch_ns(${DERIVED_END_TIME}) AS VARCHAR) AS e,
        CAST(http_response_status_code AS VARCHAR) AS code, attributes['app.tier'] AS tier, attributes['app.items'] AS items,
        len(events) AS ev, len(links) AS ln, scope_name
      FROM ${glob} WHERE trace_id = '${traceId}' ORDER BY span_id`);
    return rows.map((r) => JSON.stringify([r.span_id, r.parent_span_id ?? null, r.name, r.kind, r.service_name, r.status_code, r.status_message ?? null, r.s, r.e, r.code ?? null, r.tier ?? null, r.items ?? null, Number(r.ev), Number(r.ln), r.scope_name]));
  }

  type Obj = Record<string, unknown>;
  /** The same tuple from OTLP resourceSpans (protobuf-decoded with enum names, or OTLP/JSON with enum numbers). */
  function answerSpans(resourceSpans: Obj[]): string[] {
    const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
    const STATUS = ['UNSET', 'OK', 'ERROR'];
    const kv = (attrs: unknown, key: string): string | null => {
      const hit = ((attrs as Obj[] | undefined) ?? []).find((a) => a.key === key);
      if (!hit) return null;
      const v = hit.value as Obj;
      return String(v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue);
    };
    const out: string[] = [];
    for (const rs of resourceSpans) {
      const service = kv((rs.resource as Obj).attributes, 'service.name');
      for (const ss of rs.scopeSpans as Obj[]) {
        for (const s of ss.spans as Obj[]) {
          const kind = typeof s.kind === 'number' ? KINDS[s.kind]! : String(s.kind).replace('SPAN_KIND_', '');
          const st = (s.status ?? {}) as Obj;
          const code = st.code === undefined ? 'UNSET' : typeof st.code === 'number' ? STATUS[st.code]! : String(st.code).replace('STATUS_CODE_', '');
          out.push(JSON.stringify([s.spanId, s.parentSpanId || null, s.name, kind, service, code, st.message || null, String(s.startTimeUnixNano), String(s.endTimeUnixNano),
            kv(s.attributes, 'http.response.status_code'), kv(s.attributes, 'app.tier'), kv(s.attributes, 'app.items'), ((s.events as unknown[]) ?? []).length, ((s.links as unknown[]) ?? []).length, (ss.scope as Obj | undefined)?.name]));
        }
      }
    }
    return out.sort();
  }

  it('serves every trace by id as tempopb.TraceByIDResponse and tempopb.Trace, equal to DuckDB', async () => {
    const ids = (await sql(`SELECT DISTINCT trace_id FROM ${glob} ORDER BY 1`)).map((r) => r.trace_id as string);
    expect(ids).toHaveLength(CORPUS_TRACES);
    for (const id of ids) {
      const expected = await duckSpans(id);
      const v2 = await get(`/api/v2/traces/${id}`, 'application/protobuf');
      expect(v2.status).toBe(200);
      expect(v2.headers.get('content-type')).toBe('application/protobuf');
      const resp = decodeTempo('TraceByIDResponse', new Uint8Array(await v2.arrayBuffer()));
      expect(resp.status ?? 'COMPLETE').toBe('COMPLETE');
      expect(answerSpans((resp.trace as Obj).resourceSpans as Obj[])).toEqual(expected);
      const v1 = await get(`/api/traces/${id}`, 'application/protobuf');
      expect(v1.status).toBe(200);
      const bare = decodeTempo('Trace', new Uint8Array(await v1.arrayBuffer()));
      expect(answerSpans(bare.resourceSpans as Obj[])).toEqual(expected);
    }
    // OTLP/JSON without the protobuf Accept header, shaped as the same messages.
    const j = await json<Obj>(`/api/v2/traces/${ids[0]}`);
    expect(checkTempoJson('TraceByIDResponse', j)).toEqual([]);
    expect(answerSpans((j.trace as Obj).resourceSpans as Obj[])).toEqual(await duckSpans(ids[0]!));
    const bareJson = await json<Obj>(`/api/traces/${ids[1]}`);
    expect(checkTempoJson('Trace', bareJson)).toEqual([]);
    expect(answerSpans(bareJson.resourceSpans as Obj[])).toEqual(await duckSpans(ids[1]!));
  });

  it('answers 404 for an absent trace and 400 for a malformed id or time', async () => {
    const absent = await get(`/api/v2/traces/${'ab'.repeat(16)}`, 'application/protobuf');
    expect(absent.status).toBe(404);
    const bad = await get('/api/v2/traces/not-a-trace-id');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('traceID');
    const badStart = await get(`/api/traces/${'ab'.repeat(16)}?start=yesterday`);
    expect(badStart.status).toBe(400);
    expect(await badStart.text()).toContain('"start"');
  });

  /** Trace-level facts DuckDB computes for each trace (root, start, duration). */
  const TRACE_CTE = (g: string) => `WITH s AS (SELECT * FROM ${g}),
    t AS (SELECT trace_id, min(start_time) AS tstart, max(${DERIVED_END_TIME}) AS tend,
            arg_min(name, start_time) FILTER (WHERE parent_span_id IS NULL) AS root_name,
            arg_min(service_name, start_time) FILTER (WHERE parent_span_id IS NULL) AS root_service
          FROM s GROUP BY trace_id)`;

  /** trace id → matching span ids, for a span predicate (over s and t) within [lo, hi) ns. */
  async function duckMatches(pred: string, lo: bigint, hi: bigint): Promise<Map<string, Set<string>>> {
    const rows = await sql(`${TRACE_CTE(glob)} SELECT s.trace_id, s.span_id FROM s JOIN t USING (trace_id)
      WHERE (${pred}) AND epoch_ns(s.start_time) >= ${lo} AND epoch_ns(s.start_time) < ${hi}`);
    const out = new Map<string, Set<string>>();
    for (const r of rows) {
      const id = r.trace_id as string;
      if (!out.has(id)) out.set(id, new Set());
      out.get(id)!.add(r.span_id as string);
    }
    return out;
  }

  function combine(op: 'and' | 'or', a: Map<string, Set<string>>, b: Map<string, Set<string>>): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const id of new Set([...a.keys(), ...b.keys()])) {
      const x = a.get(id);
      const y = b.get(id);
      if (op === 'and' && (!x || !y)) continue;
      out.set(id, new Set([...(x ?? []), ...(y ?? [])]));
    }
    return out;
  }

  async function checkSearch(reply: SearchReply, expected: Map<string, Set<string>>, limit = 1000): Promise<void> {
    expect(checkTempoJson('SearchResponse', reply)).toEqual([]);
    const facts = new Map(
      (await sql(`${TRACE_CTE(glob)} SELECT trace_id, root_name, root_service, CAST(epoch_ns(tstart) AS VARCHAR) AS ts, CAST(epoch_ns(tend) - epoch_ns(tstart) AS VARCHAR) AS dur FROM t`)).map((r) => [r.trace_id as string, r]),
    );
    const order = [...expected.keys()].sort((a, b) => {
      const x = BigInt(facts.get(a)!.ts as string);
      const y = BigInt(facts.get(b)!.ts as string);
      return x > y ? -1 : x < y ? 1 : a < b ? -1 : 1;
    });
    expect(reply.traces.map((t) => t.traceID)).toEqual(order.slice(0, limit));
    for (const t of reply.traces) {
      const f = facts.get(t.traceID)!;
      expect(t.rootServiceName).toBe(f.root_service ?? NO_ROOT);
      expect(t.rootTraceName).toBe(f.root_name ?? undefined);
      expect(t.startTimeUnixNano).toBe(f.ts);
      expect(t.durationMs).toBe(Number(BigInt(f.dur as string) / 1_000_000n));
      const want = expected.get(t.traceID)!;
      expect(t.spanSets[0]!.matched).toBe(want.size);
      expect(t.spanSets[0]!.spans.length).toBe(Math.min(3, want.size));
      for (const s of t.spanSets[0]!.spans) expect(want.has(s.spanID)).toBe(true);
    }
    expect(Number(reply.metrics.inspectedBytes)).toBeGreaterThan(0);
  }

  const lo = () => BigInt(Math.floor(nowMs / 1000) - 3 * 3600) * 1_000_000_000n;
  const hi = () => BigInt(Math.floor(nowMs / 1000) + 61) * 1_000_000_000n;

  const CASES: [string, string][] = [
    ['{}', 'TRUE'],
    ['{ resource.service.name = "checkout" && status = error }', `s.service_name = 'checkout' AND s.status_code = 'ERROR'`],
    ['{ span.http.response.status_code >= 500 && kind = client }', `s.http_response_status_code >= 500 AND s.kind = 'CLIENT'`],
    ['{ .app.tier = "gold" && duration > 10ms }', `COALESCE(s.attributes['app.tier'], s.resource_attributes['app.tier']) = 'gold' AND s.duration_ns > 10000000`],
    ['{ rootServiceName = "frontend" && span.app.items >= 4 && name =~ "process-.*" }', `t.root_service = 'frontend' AND TRY_CAST(s.attributes['app.items'] AS DOUBLE) >= 4 AND regexp_full_match(s.name, 'process-.*')`],
    ['{ traceDuration > 15ms && rootName = "GET /cart" }', `epoch_ns(t.tend) - epoch_ns(t.tstart) > 15000000 AND t.root_name = 'GET /cart'`],
    ['{ (name = "charge" || name = "GET /cart") && kind != internal }', `(s.name = 'charge' OR s.name = 'GET /cart') AND s.kind <> 'INTERNAL'`],
    ['{ span.url.path !~ "/check.*" && span.http.request.method = "GET" }', `NOT regexp_full_match(s.url_path, '/check.*') AND s.http_request_method = 'GET'`],
    ['{ statusMessage = "boom" && span.app.items < 5.5 }', `s.status_message = 'boom' AND TRY_CAST(s.attributes['app.items'] AS DOUBLE) < 5.5`],
  ];

  for (const [q, pred] of CASES) {
    it(`searches ${q} like DuckDB`, async () => {
      const reply = await json<SearchReply>(`/api/search?q=${encodeURIComponent(q)}&limit=100&${range()}`);
      await checkSearch(reply, await duckMatches(pred, lo(), hi()));
      expect(reply.metrics.inspectedTraces).toBeGreaterThanOrEqual(reply.traces.length);
    });
  }

  it('combines spansets with && and || like DuckDB', async () => {
    const error = await duckMatches(`s.status_code = 'ERROR'`, lo(), hi());
    const bad = await duckMatches(`s.http_response_status_code = 502`, lo(), hi());
    const and = await json<SearchReply>(`/api/search?q=${encodeURIComponent('{ status = error } && { span.http.response.status_code = 502 }')}&limit=100&${range()}`);
    await checkSearch(and, combine('and', error, bad));
    const boom = await duckMatches(`s.status_message = 'boom'`, lo(), hi());
    const prodUs = await duckMatches(`s.resource_attributes['deployment.environment'] = 'prod' AND s.attributes['app.region'] <> 'eu'`, lo(), hi());
    const or = await json<SearchReply>(`/api/search?q=${encodeURIComponent('{ statusMessage = "boom" } || { resource.deployment.environment = "prod" && span.app.region != "eu" }')}&limit=100&${range()}`);
    await checkSearch(or, combine('or', boom, prodUs));
  });

  it('reports a trace whose root never arrived', async () => {
    const reply = await json<SearchReply>(`/api/search?q=${encodeURIComponent('{ name = "process-order" && span.app.items = 7 }')}&${range()}`);
    await checkSearch(reply, await duckMatches(`s.name = 'process-order' AND s.attributes['app.items'] = '7'`, lo(), hi()));
    expect(reply.traces).toHaveLength(1);
    expect(reply.traces[0]!.rootServiceName).toBe(NO_ROOT);
  });

  it('searches the last hour by default, newest first, and honours limit', async () => {
    const since = BigInt(nowMs - 3_600_000 + 5_000) * 1_000_000n; // the request's "now" is a little later
    const reply = await json<SearchReply>('/api/search?q=%7B%7D&limit=100');
    const expected = await duckMatches('TRUE', since, hi());
    await checkSearch(reply, expected);
    expect(reply.traces).toHaveLength(CORPUS_TRACES - OLD_TRACES.size);
    const three = await json<SearchReply>(`/api/search?q=%7B%7D&limit=3&${range()}`);
    await checkSearch(three, await duckMatches('TRUE', lo(), hi()), 3);
  });

  it('serves the legacy tags / minDuration search', async () => {
    const reply = await json<SearchReply>(`/api/search?tags=${encodeURIComponent('service.name=checkout app.tier=gold')}&minDuration=15ms&limit=100&${range()}`);
    const checkout = await duckMatches(`s.service_name = 'checkout' OR s.resource_attributes['service.name'] = 'checkout'`, lo(), hi());
    const gold = await duckMatches(`COALESCE(s.attributes['app.tier'], s.resource_attributes['app.tier']) = 'gold'`, lo(), hi());
    const long = await duckMatches(`epoch_ns(t.tend) - epoch_ns(t.tstart) >= 15000000`, lo(), hi());
    await checkSearch(reply, combine('and', combine('and', checkout, gold), long));
    expect(reply.traces.length).toBeGreaterThan(0);
  });

  it('bounds the work of a search by bytes read, and says when it stopped early', async () => {
    const expr = parseTraceQL('{}');
    const all = await searchTraces(d.queryEngine, { expr, startNs: lo(), endNs: hi(), limit: 100 });
    expect(all.truncated).toBe(false);
    expect(all.traces).toHaveLength(CORPUS_TRACES);
    expect(all.inspectedBytes).toBe(all.stats.bytes_read);
    const tiny = await searchTraces(d.queryEngine, { expr, startNs: lo(), endNs: hi(), limit: 100, budgetBytes: 1 });
    expect(tiny.truncated).toBe(true);
    expect(tiny.traces.length).toBeLessThan(all.traces.length);
    expect(tiny.inspectedBytes).toBeLessThan(all.inspectedBytes);
    // A limit stops the walk early too: fewer bytes than the whole range.
    const one = await searchTraces(d.queryEngine, { expr, startNs: lo(), endNs: hi(), limit: 1 });
    expect(one.traces).toHaveLength(1);
    expect(one.inspectedBytes).toBeLessThan(all.inspectedBytes);
  });

  const REFUSED: [string, string][] = [
    [`q=${encodeURIComponent('{ .a = 1 } | count() > 2')}`, 'pipelines'],
    [`q=${encodeURIComponent('{ .a = 1 } >> { .b = 2 }')}`, '">>"'],
    [`q=${encodeURIComponent('{ event.name = "x" }')}`, 'event scope'],
    [`q=${encodeURIComponent('{ duration > "x" }')}`, 'duration compares with a duration'],
    [`q=${encodeURIComponent('{ span.x = nil }')}`, 'nil'],
    [`q=${encodeURIComponent('{ name = "x"')}`, 'expected "}"'],
    [`q=${encodeURIComponent('{ name =~ "(" }')}`, 'regular expression'],
    ['q=%7B%7D&limit=abc', '"limit"'],
    ['q=%7B%7D&spss=0', '"spss"'],
    ['q=%7B%7D&start=yesterday', '"start"'],
    ['q=%7B%7D&start=200&end=100', '"start"'],
    ['minDuration=fast', '"minDuration"'],
  ];
  for (const [params, needle] of REFUSED) {
    it(`refuses ${decodeURIComponent(params)} with a 400 naming it`, async () => {
      const res = await get(`/api/search?${params}`);
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(text).toContain(needle);
    });
  }

  it('lists tag names per scope, equal to DuckDB', async () => {
    const promoted = [['http.request.method', 'http_request_method'], ['http.response.status_code', 'http_response_status_code'], ['url.path', 'url_path'], ['server.address', 'server_address']];
    const spanKeys = new Set((await sql(`SELECT DISTINCT unnest(map_keys(attributes)) AS k FROM ${glob}`)).map((r) => r.k as string));
    for (const [attr, col] of promoted) if (Number((await sql(`SELECT count(${col}) AS n FROM ${glob}`))[0]!.n) > 0) spanKeys.add(attr!);
    const resourceKeys = new Set((await sql(`SELECT DISTINCT unnest(map_keys(resource_attributes)) AS k FROM ${glob}`)).map((r) => r.k as string));
    const v1 = await json<{ tagNames: string[] }>('/api/search/tags');
    expect(checkTempoJson('SearchTagsResponse', v1)).toEqual([]);
    expect(v1.tagNames).toEqual([...new Set([...spanKeys, ...resourceKeys])].sort());
    const v2 = await json<{ scopes: { name: string; tags: string[] }[] }>('/api/v2/search/tags');
    expect(checkTempoJson('SearchTagsV2Response', v2)).toEqual([]);
    const byScope = Object.fromEntries(v2.scopes.map((s) => [s.name, s.tags]));
    expect(byScope.span).toEqual([...spanKeys].sort());
    expect(byScope.resource).toEqual([...resourceKeys].sort());
    expect(byScope.intrinsic).toEqual(expect.arrayContaining(['name', 'status', 'kind', 'duration', 'rootServiceName']));
    const scoped = await json<{ scopes: { name: string }[] }>('/api/v2/search/tags?scope=resource');
    expect(scoped.scopes.map((s) => s.name)).toEqual(['resource']);
    expect((await get('/api/v2/search/tags?scope=event')).status).toBe(400);
  });

  it('lists tag values, equal to DuckDB (v1 and v2, the tag encoded twice)', async () => {
    const distinct = async (q: string) => (await sql(q)).map((r) => String(r.v)).sort();
    const services = await distinct(`SELECT DISTINCT service_name AS v FROM ${glob} WHERE service_name IS NOT NULL`);
    expect(services).toEqual(['checkout', 'frontend', 'payments']);
    const v2 = await json<{ tagValues: { type: string; value: string }[] }>(`/api/v2/search/tag/${encodeURIComponent(encodeURIComponent('resource.service.name'))}/values`);
    expect(checkTempoJson('SearchTagValuesV2Response', v2)).toEqual([]);
    expect(v2.tagValues).toEqual(services.map((value) => ({ type: 'string', value })));
    const v1 = await json<{ tagValues: string[] }>('/api/search/tag/service.name/values');
    expect(checkTempoJson('SearchTagValuesResponse', v1)).toEqual([]);
    expect(v1.tagValues).toEqual(services);
    const methods = await distinct(`SELECT DISTINCT COALESCE(http_request_method, attributes['http.request.method']) AS v FROM ${glob} WHERE COALESCE(http_request_method, attributes['http.request.method']) IS NOT NULL`);
    expect((await json<{ tagValues: { value: string }[] }>('/api/v2/search/tag/span.http.request.method/values')).tagValues.map((v) => v.value)).toEqual(methods);
    const codes = await distinct(`SELECT DISTINCT CAST(http_response_status_code AS VARCHAR) AS v FROM ${glob} WHERE http_response_status_code IS NOT NULL`);
    const codeValues = await json<{ tagValues: { type: string; value: string }[] }>('/api/v2/search/tag/span.http.response.status_code/values');
    expect(codeValues.tagValues).toEqual(codes.map((value) => ({ type: 'int', value })));
    const tiers = await distinct(`SELECT DISTINCT v FROM (SELECT attributes['app.tier'] AS v FROM ${glob} UNION ALL SELECT resource_attributes['app.tier'] FROM ${glob}) WHERE v IS NOT NULL`);
    expect((await json<{ tagValues: { value: string }[] }>('/api/v2/search/tag/.app.tier/values')).tagValues.map((v) => v.value)).toEqual(tiers);
    const names = await distinct(`SELECT DISTINCT name AS v FROM ${glob}`);
    expect((await json<{ tagValues: { value: string }[] }>('/api/v2/search/tag/name/values')).tagValues.map((v) => v.value)).toEqual(names);
    // Narrowed by the TraceQL query being written.
    const checkoutNames = await distinct(`SELECT DISTINCT name AS v FROM ${glob} WHERE service_name = 'checkout'`);
    expect((await json<{ tagValues: { value: string }[] }>(`/api/v2/search/tag/name/values?q=${encodeURIComponent('{ resource.service.name = "checkout" }')}`)).tagValues.map((v) => v.value)).toEqual(checkoutNames);
    const bad = await get('/api/v2/search/tag/duration/values');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('duration');
  });
});
