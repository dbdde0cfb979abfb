/**
 * The web UI's server side without a browser: the redirect, static assets (types, caching,
 * no way out of the asset map), public assets with token-protected APIs, and the summary
 * endpoints checked against DuckDB and against what the test sent.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { makeCheckoutTraces, sendLogs, sendMetrics, sendSpans } from '../helpers/ui-traffic.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'ui-server-token-0123456789';
let d: TestDaemon;
const auth = { Authorization: `Bearer ${TOKEN}` };

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: d.ports.query, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function api(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(d.queryUrl(path), { headers: auth });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  d = await startTestDaemon(`[buffer]\nmax_age_seconds = 1\n[auth]\nquery_tokens = ["${TOKEN}"]`);
  const ports = { http: d.ports.http! };
  const spans = makeCheckoutTraces(12);
  await sendSpans(ports, spans);
  const roots = spans.filter((s) => !s.parentSpanContext);
  await sendLogs(ports, roots.map((s) => ({ traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, error: s.status.code === 2 })));
  await sendMetrics(ports, 1200);
  const n = async (dataset: string): Promise<number> => ((await (await fetch(d.queryUrl('/api/v1/query'), { method: 'POST', headers: auth, body: JSON.stringify({ dataset, select: ['service_name'] }) })).json()) as { records: unknown[] }).records.length;
  await waitFor(async () => (await n('traces')) === spans.length && (await n('logs')) === 16 && (await n('metrics')) >= 6, 60_000, 'telemetry flushed');
}, 120_000);

afterAll(async () => {
  await d?.cleanup();
});

describe('web UI: static files', () => {
  it('GET / and /ui redirect to /ui/; the shell and every asset are public, typed and cached', async () => {
    for (const p of ['/', '/ui']) {
      const r = await rawGet(p);
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe('/ui/');
    }
    const shell = await rawGet('/ui/');
    expect(shell.status).toBe(200);
    expect(shell.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(shell.headers['cache-control']).toBe('no-cache');
    expect(shell.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await rawGet('/ui/', { 'If-None-Match': String(shell.headers.etag) })).status).toBe(304);
    for (const view of ['/ui/logs', '/ui/metrics', '/ui/traces/0af7651916cd43dd8448eb211c80319c']) expect((await rawGet(view)).body.equals(shell.body)).toBe(true);

    // Every file the shell names, and every module those import, relative to the asset base.
    const base = /href="(\/ui\/assets\/[0-9a-f]{12})\/app\.css"/.exec(shell.body.toString())![1]!;
    const queue = [...shell.body.toString().matchAll(/(?:href|src)="\/ui\/assets\/[0-9a-f]{12}\/([^"]+)"/g)].map((m) => m[1]!);
    const seen = new Map<string, Buffer>();
    while (queue.length) {
      const file = queue.shift()!;
      if (seen.has(file)) continue;
      const r = await rawGet(`${base}/${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      const ext = file.slice(file.lastIndexOf('.'));
      expect(r.headers['content-type']).toBe({ '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' }[ext]);
      seen.set(file, r.body);
      if (ext === '.js') {
        const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
        for (const m of r.body.toString().matchAll(/from '(\.{1,2}\/[^']+)'/g)) queue.push(new URL(m[1]!, `http://x/${dir}`).pathname.slice(1));
      }
    }
    expect(seen.has('vendor/uPlot.iife.min.js') && seen.has('views/trace.js')).toBe(true);
    const raw = [...seen.values()].reduce((a, b) => a + b.length, 0) + shell.body.length;
    const gz = [...seen.values()].reduce((a, b) => a + gzipSync(b).length, 0) + gzipSync(shell.body).length;
    console.log(`UI ships ${seen.size + 1} files, ${raw} bytes (${gz} gzipped); uPlot ${seen.get('vendor/uPlot.iife.min.js')!.length + seen.get('vendor/uPlot.min.css')!.length} of them`);
    expect(raw).toBeLessThan(200_000);
  });

  it('no path reaches outside the asset map: traversal, encoded traversal, another hash, the shell as an asset', async () => {
    const shell = (await rawGet('/ui/')).body.toString();
    const base = /href="(\/ui\/assets\/[0-9a-f]{12})\/app\.css"/.exec(shell)![1]!;
    for (const p of [
      `${base}/../../../package.json`,
      `${base}/%2e%2e/%2e%2e/%2e%2e/package.json`,
      `${base}/..%2f..%2f..%2fpackage.json`,
      `${base}/views/..%5c..%5cpackage.json`,
      `${base}/index.html`,
      `${base}/`,
      '/ui/assets/000000000000/app.js',
      '/ui/../package.json',
      '/ui/traces/not-hex',
      '/ui/nothing',
    ]) {
      const r = await rawGet(p);
      expect([404, 401], p).toContain(r.status); // outside /ui the API answers, and it wants a token
      expect(r.body.toString()).not.toContain('"dependencies"');
    }
    const post = await rawGet('/ui/', {}, 'POST');
    expect(post.status).toBe(405);
  });
});

describe('web UI: summary APIs', () => {
  it('need the query token like the rest of /api/v1', async () => {
    for (const p of ['/api/v1/trace-search', '/api/v1/log-histogram', '/api/v1/metric-names', '/api/v1/metric-series?name=x', '/api/v1/changes-head?dataset=logs']) {
      const r = await rawGet(p);
      expect(r.status, p).toBe(401);
      expect(r.headers['www-authenticate']).toContain('Bearer');
    }
  });

  it('trace-search finds what DuckDB finds, promoted attributes included, and summarises each trace', async () => {
    const glob = datasetGlob(join(d.dir, 'data'), 'traces');
    const cases: [string, string][] = [
      ['service=db', "service_name = 'db'"],
      ['name=charge%20card&status=ERROR', "name = 'charge card' AND status_code = 'ERROR'"],
      ['min_duration_ms=60', 'duration_ns >= 60000000'],
      ['attr=http.request.method%3DGET', "http_request_method = 'GET'"],
      // Several conditions hold on one span (the root carries both).
      ['attr=app.customer%3Dc1&attr=http.route%3D%2Fcheckout', "attributes['app.customer'] = 'c1' AND attributes['http.route'] = '/checkout'"],
    ];
    for (const [qs, where] of cases) {
      const expected = await duckdbQuery(`SELECT DISTINCT trace_id FROM ${glob} WHERE ${where}`);
      expect(expected.length, qs).toBeGreaterThan(0);
      const r = await api(`/api/v1/trace-search?${qs}`);
      expect(r.status, qs).toBe(200);
      const traces = r.body.traces as { trace_id: string; span_count: number; root_name: string; root_service: string; error_count: number; duration_ms: number }[];
      expect(traces.map((t) => t.trace_id).sort(), qs).toEqual(expected.map((e) => e.trace_id).sort());
      for (const t of traces) {
        expect(t).toMatchObject({ span_count: 5, root_name: 'GET /checkout', root_service: 'frontend' });
        expect(t.duration_ms).toBeGreaterThanOrEqual(40);
      }
    }
    const limited = await api('/api/v1/trace-search?limit=5');
    expect((limited.body.traces as unknown[]).length).toBe(5);
    expect(limited.body.truncated).toBe(true);
  });

  it('log-histogram counts records by severity in time buckets', async () => {
    const r = await api('/api/v1/log-histogram?buckets=10');
    expect(r.status).toBe(200);
    const h = r.body as { counts: number[][]; severities: string[]; total: number; step_ms: number };
    expect(h.total).toBe(16);
    const sum = (sev: string) => h.counts[h.severities.indexOf(sev)]!.reduce((a, b) => a + b, 0);
    expect([sum('INFO'), sum('ERROR'), sum('WARN')]).toEqual([12, 4, 0]);
    const filtered = await api(`/api/v1/log-histogram?filter=${encodeURIComponent("service_name = 'api'")}`);
    expect((filtered.body as { total: number }).total).toBe(4);
  });

  it('metric-names and metric-series: a counter as a rate, a histogram as percentiles, a gauge as its value', async () => {
    const names = await api('/api/v1/metric-names');
    expect(names.body.metrics).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'ui.requests', type: 'SUM', unit: '{request}', attributes: ['route'] }),
      expect.objectContaining({ name: 'ui.latency', type: 'HISTOGRAM', unit: 'ms' }),
      expect.objectContaining({ name: 'ui.queue.depth', type: 'GAUGE' }),
    ]));
    type Series = { shows: string; step_ms: number; series: { label: string; values: (number | null)[] }[] };
    const rate = (await api('/api/v1/metric-series?name=ui.requests&group_by=route&buckets=30')).body as Series;
    expect(rate.shows).toBe('rate/s');
    // The rates times the step add up to what was counted: 2 rounds of 15 (/checkout) and 5 (/cart).
    const total = (label: string) => rate.series.find((s) => s.label === label)!.values.reduce<number>((a, v) => a + (v ?? 0), 0) * (rate.step_ms / 1000);
    expect(total('/checkout')).toBeCloseTo(30, 6);
    expect(total('/cart')).toBeCloseTo(10, 6);
    const lat = (await api('/api/v1/metric-series?name=ui.latency')).body as Series;
    expect(lat.shows).toBe('percentile');
    expect(lat.series.map((s) => s.label)).toEqual(['all p50', 'all p90', 'all p99']);
    const last = (s: { values: (number | null)[] }) => s.values.filter((v) => v !== null).at(-1)!;
    const [p50, p90, p99] = lat.series.map(last) as [number, number, number];
    expect(p50).toBeGreaterThanOrEqual(50); // the median of 5, 12, … 138 lies in the (50, 100] bucket
    expect(p50).toBeLessThanOrEqual(100);
    expect(p90).toBeGreaterThan(100);
    expect(p99).toBeGreaterThanOrEqual(p90);
    const gauge = (await api('/api/v1/metric-series?name=ui.queue.depth&group_by=queue&buckets=2')).body as Series;
    expect(gauge.series.map((x) => [x.label, x.values.filter((v) => v !== null)])).toEqual([['orders', [9]]]); // 7 and 11 averaged
  });

  it('changes-head gives the cursor at the end of the feed: reading from it returns only newer records', async () => {
    const head = await api('/api/v1/changes-head?dataset=logs');
    const cursor = head.body.cursor as string;
    expect(typeof cursor).toBe('string');
    const empty = await fetch(d.queryUrl(`/api/v1/changes?dataset=logs&cursor=${encodeURIComponent(cursor)}`), { headers: auth });
    expect(await empty.text()).toBe('');
    await sendLogs({ http: d.ports.http! }, [], [{ service: 'worker', body: 'after the head', severity: 9 }]);
    const body = await waitFor(async () => {
      const r = await fetch(d.queryUrl(`/api/v1/changes?dataset=logs&cursor=${encodeURIComponent(cursor)}&select=body`), { headers: auth });
      const t = await r.text();
      return t === '' ? undefined : t;
    }, 30_000, 'the new record in the feed');
    expect(body.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ body: 'after the head' }]);
  });

  it('bad parameters are 400s that name the parameter; other methods 405', async () => {
    const cases: [string, RegExp][] = [
      ['/api/v1/trace-search?status=BROKEN', /"status" must be OK, ERROR or UNSET/],
      ['/api/v1/trace-search?bogus=1', /unknown parameter "bogus"/],
      ['/api/v1/trace-search?min_duration_ms=-5', /"min_duration_ms"/],
      ['/api/v1/trace-search?attr=novalue', /"attr" must be key=value/],
      ['/api/v1/trace-search?limit=0', /"limit" must be a whole number from 1 to 1000/],
      ['/api/v1/trace-search?start=2024-01-02T00:00:00Z&end=2024-01-01T00:00:00Z', /"start" must be before "end"/],
      ['/api/v1/trace-search?start=yesterday', /"start" must be an RFC 3339 time/],
      ['/api/v1/log-histogram?buckets=501', /"buckets" must be a whole number from 1 to 500/],
      ['/api/v1/log-histogram?filter=severity_number%20%3E%3D%20%27x%27', /severity_number/],
      ['/api/v1/metric-series', /"name" \(a metric name\) is required/],
      ['/api/v1/changes-head?dataset=nope', /nope/],
    ];
    for (const [path, message] of cases) {
      const r = await api(path);
      expect(r.status, path).toBe(400);
      expect((r.body.error as { message: string }).message, path).toMatch(message);
    }
    const post = await fetch(d.queryUrl('/api/v1/trace-search'), { method: 'POST', headers: auth });
    expect(post.status).toBe(405);
  });
});
