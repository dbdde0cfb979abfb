/**
 * The Jaeger-compatible API under /jaeger (v1 for the Jaeger UI and Grafana, v3 OTLP JSON),
 * over traces the official OTel exporters sent: traces are checked against Jaeger's published
 * JSON model, and every service, operation, trace and search result against DuckDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { checkJaegerTrace } from '../helpers/jaeger-model.js';
import { CORPUS_TRACES, OLD_TRACES, sendCorpus } from '../helpers/read-api-corpus.js';

type Obj = Record<string, unknown>;
interface Envelope<T> {
  data: T;
  total: number;
  limit: number;
  offset: number;
  errors: { code: number; msg: string }[] | null;
}
interface JSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags?: { key: string; type: string; value: unknown }[];
  logs?: { timestamp: number; fields: { key: string; value: unknown }[] }[];
  processID: string;
}
interface JTrace {
  traceID: string;
  spans: JSpan[];
  processes: Record<string, { serviceName: string; tags?: { key: string; value: unknown }[] }>;
}

describe('Jaeger API', () => {
  let d: TestDaemon;
  let nowMs: number;
  let glob: string;

  const get = (path: string): Promise<Response> => fetch(d.queryUrl(`/jaeger${path}`));
  const ok = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    const body = await res.text();
    expect(res.status, body).toBe(200);
    return JSON.parse(body) as T;
  };
  const sql = (q: string) => duckdbQuery(q);
  const strings = async (q: string) => (await sql(q)).map((r) => String(r.v)).sort();
  const usRange = () => `start=${(nowMs - 3 * 3_600_000) * 1000}&end=${(nowMs + 60_000) * 1000}`;

  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    nowMs = Date.now();
    await sendCorpus(nowMs, { grpc: d.ports.grpc!, http: d.ports.http! });
    await d.pipeline.flush();
    glob = `read_parquet('${d.dir}/data/traces/**/*.parquet', hive_partitioning = false)`;
  }, 120_000);
  afterAll(async () => {
    await d?.cleanup();
  });

  it('lists services and operations like DuckDB (v1 and v3)', async () => {
    const services = await strings(`SELECT DISTINCT service_name AS v FROM ${glob}`);
    const v1 = await ok<Envelope<string[]>>('/api/services');
    expect(v1.data).toEqual(services);
    expect(v1.total).toBe(services.length);
    expect(v1.errors).toBeNull();
    expect((await ok<{ services: string[] }>('/api/v3/services')).services).toEqual(services);
    for (const s of services) {
      const names = await strings(`SELECT DISTINCT name AS v FROM ${glob} WHERE service_name = '${s}'`);
      expect((await ok<Envelope<string[]>>(`/api/services/${encodeURIComponent(s)}/operations`)).data).toEqual(names);
      const pairs = (await sql(`SELECT DISTINCT name, lower(kind) AS k FROM ${glob} WHERE service_name = '${s}' ORDER BY name, k`)).map((r) => ({ name: r.name, spanKind: r.k }));
      const ops = await ok<Envelope<{ name: string; spanKind: string }[]>>(`/api/operations?service=${encodeURIComponent(s)}`);
      expect(ops.data).toEqual(pairs);
      expect((await ok<{ operations: unknown[] }>(`/api/v3/operations?service=${encodeURIComponent(s)}`)).operations).toEqual(pairs);
      const servers = await strings(`SELECT DISTINCT name AS v FROM ${glob} WHERE service_name = '${s}' AND kind = 'SERVER'`);
      expect((await ok<Envelope<{ name: string }[]>>(`/api/operations?service=${encodeURIComponent(s)}&spanKind=server`)).data.map((o) => o.name)).toEqual(servers);
    }
  });

  /** A trace's spans as DuckDB reads them, in the Jaeger answer's terms. */
  async function duckTrace(id: string): Promise<string[]> {
    const rows = await sql(`SELECT span_id, parent_span_id, name, service_name, status_code,
        CAST(epoch_ns(start_time) // 1000 AS VARCHAR) AS us, CAST(duration_ns // 1000 AS VARCHAR) AS dur,
        [l.span_id FOR l IN links] AS follows, [e.name FOR e IN events] AS events,
        attributes['app.tier'] AS tier, CAST(http_response_status_code AS VARCHAR) AS code
      FROM ${glob} WHERE trace_id = '${id}' ORDER BY span_id`);
    return rows.map((r) => JSON.stringify([r.span_id, r.parent_span_id ?? null, r.name, r.service_name, r.status_code === 'ERROR', r.us, r.dur, r.follows, r.events, r.tier ?? null, r.code ?? null]));
  }

  function answerTrace(t: JTrace): string[] {
    return t.spans
      .map((s) => {
        const tag = (k: string) => s.tags?.find((x) => x.key === k)?.value;
        const parent = s.references?.find((r) => r.refType === 'CHILD_OF')?.spanID ?? null;
        const follows = (s.references ?? []).filter((r) => r.refType === 'FOLLOWS_FROM').map((r) => r.spanID);
        const events = (s.logs ?? []).map((l) => l.fields.find((f) => f.key === 'event')?.value);
        const code = tag('http.response.status_code');
        return JSON.stringify([s.spanID, parent, s.operationName, t.processes[s.processID]!.serviceName, tag('error') === true, String(s.startTime), String(s.duration), follows, events, tag('app.tier') ?? null, code === undefined ? null : String(code)]);
      })
      .sort();
  }

  it('serves every trace by id in the Jaeger model, equal to DuckDB (v1 and v3)', async () => {
    const ids = (await sql(`SELECT DISTINCT trace_id FROM ${glob} ORDER BY 1`)).map((r) => r.trace_id as string);
    expect(ids).toHaveLength(CORPUS_TRACES);
    for (const id of ids) {
      const env = await ok<Envelope<JTrace[]>>(`/api/traces/${id}`);
      expect(env.data).toHaveLength(1);
      expect(checkJaegerTrace(env.data[0])).toEqual([]);
      expect(answerTrace(env.data[0]!)).toEqual(await duckTrace(id));
      const v3 = await ok<{ result: { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] } }>(`/api/v3/traces/${id}`);
      const v3Ids = v3.result.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.spanId))).sort();
      expect(v3Ids).toEqual((await sql(`SELECT span_id FROM ${glob} WHERE trace_id = '${id}' ORDER BY 1`)).map((r) => r.span_id));
    }
    // Process tags come from the resource.
    const env = await ok<Envelope<JTrace[]>>(`/api/traces/${ids[0]}`);
    for (const p of Object.values(env.data[0]!.processes)) expect(p.tags?.some((t) => t.key === 'deployment.environment')).toBe(true);
  });

  /** Trace ids of spans matching `pred` in the range, as a sorted list. */
  const duckIds = (pred: string, loMs: number, hiMs: number) =>
    strings(`SELECT DISTINCT trace_id AS v FROM ${glob} WHERE (${pred}) AND epoch_ns(start_time) >= ${BigInt(loMs) * 1_000_000n} AND epoch_ns(start_time) < ${BigInt(hiMs) * 1_000_000n}`);

  const SEARCHES: [string, string][] = [
    ['service=checkout', `service_name = 'checkout'`],
    ['service=payments&operation=charge&minDuration=20ms', `service_name = 'payments' AND name = 'charge' AND duration_ns >= 20000000`],
    ['service=payments&maxDuration=10ms', `service_name = 'payments' AND duration_ns <= 10000000`],
    [`service=checkout&tags=${encodeURIComponent('{"app.tier":"gold"}')}`, `service_name = 'checkout' AND attributes['app.tier'] = 'gold'`],
    [`service=checkout&tags=${encodeURIComponent('{"error":"true"}')}`, `service_name = 'checkout' AND status_code = 'ERROR'`],
    [`service=frontend&tags=${encodeURIComponent('http.response.status_code:500')}`, `service_name = 'frontend' AND http_response_status_code = 500`],
    [`service=payments&tags=${encodeURIComponent('app.tier:gold')}`, `service_name = 'payments' AND COALESCE(attributes['app.tier'], resource_attributes['app.tier']) = 'gold'`],
  ];
  for (const [params, pred] of SEARCHES) {
    it(`finds traces for ${decodeURIComponent(params)} like DuckDB`, async () => {
      const env = await ok<Envelope<JTrace[]>>(`/api/traces?${params}&limit=100&${usRange()}`);
      const expected = await duckIds(pred, nowMs - 3 * 3_600_000, nowMs + 60_001);
      expect(env.data.map((t) => t.traceID).sort()).toEqual(expected);
      for (const t of env.data) {
        expect(checkJaegerTrace(t)).toEqual([]);
        expect(answerTrace(t)).toEqual(await duckTrace(t.traceID)); // whole traces
      }
    });
  }

  it('looks back one hour by default and honours lookback and limit', async () => {
    const recent = await ok<Envelope<JTrace[]>>('/api/traces?service=checkout&limit=100');
    expect(recent.data.map((t) => t.traceID).sort()).toEqual(await duckIds(`service_name = 'checkout'`, nowMs - 3_600_000 + 5_000, nowMs + 60_000));
    expect(recent.data).toHaveLength(CORPUS_TRACES - OLD_TRACES.size);
    const longer = await ok<Envelope<JTrace[]>>('/api/traces?service=checkout&limit=100&lookback=3h');
    expect(longer.data).toHaveLength(CORPUS_TRACES);
    const two = await ok<Envelope<JTrace[]>>(`/api/traces?service=checkout&limit=2&${usRange()}`);
    expect(two.data).toHaveLength(2);
    const byId = await ok<Envelope<JTrace[]>>(`/api/traces?traceID=${recent.data[0]!.traceID}&traceID=${recent.data[1]!.traceID}`);
    expect(byId.data.map((t) => t.traceID).sort()).toEqual([recent.data[0]!.traceID, recent.data[1]!.traceID].sort());
  });

  it('serves the v3 search as OTLP JSON with the same traces as v1', async () => {
    const min = new Date(nowMs - 3 * 3_600_000).toISOString();
    const max = new Date(nowMs + 60_000).toISOString();
    const v3 = await ok<{ result: { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] } }>(
      `/api/v3/traces?query.service_name=checkout&query.start_time_min=${min}&query.start_time_max=${max}&query.search_depth=100`,
    );
    const ids = [...new Set(v3.result.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.traceId))))].sort();
    expect(ids).toEqual(await duckIds(`service_name = 'checkout'`, nowMs - 3 * 3_600_000, nowMs + 60_001));
  });

  const REFUSED: [string, number, string][] = [
    ['/api/traces?limit=5', 400, '"service"'],
    ['/api/traces?service=checkout&minDuration=abc', 400, '"minDuration"'],
    ['/api/traces?service=checkout&start=yesterday', 400, '"start"'],
    ['/api/traces?service=checkout&limit=0', 400, '"limit"'],
    ['/api/traces?service=checkout&lookback=forever', 400, '"lookback"'],
    [`/api/traces?service=checkout&tags=${encodeURIComponent('{"a":')}`, 400, '"tags"'],
    ['/api/traces?service=checkout&tags=novalue', 400, '"tags"'],
    ['/api/operations', 400, '"service"'],
    ['/api/operations?service=checkout&spanKind=weird', 400, '"spanKind"'],
    ['/api/traces/xyz', 400, 'traceID'],
    [`/api/traces/${'cd'.repeat(16)}`, 404, 'not found'],
  ];
  for (const [path, status, needle] of REFUSED) {
    it(`answers ${path} with ${status} in Jaeger's envelope`, async () => {
      const res = await get(path);
      const body = (await res.json()) as Envelope<null>;
      expect(res.status).toBe(status);
      expect(body.data).toBeNull();
      expect(body.errors?.[0]?.code).toBe(status);
      expect(body.errors?.[0]?.msg).toContain(needle);
    });
  }

  it('refuses bad v3 parameters with a 400 naming them', async () => {
    const res = await get('/api/v3/traces?query.service_name=checkout&query.start_time_min=soon');
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('query.start_time_min');
    expect((await get('/api/v3/traces/zz')).status).toBe(400);
    expect((await get('/api/nothing-here')).status).toBe(404);
  });
});
