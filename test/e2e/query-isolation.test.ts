/**
 * Queries never stall ingestion, and every query is bounded (issues 18 and 21): queries run on
 * worker threads, so the official exporters keep succeeding and /healthz keeps answering while
 * broad queries and hostile filters run; the concurrency limit answers 429 with Retry-After;
 * a client that leaves frees its worker (visible in /metrics); the deadline and the memory
 * budget stop a query with a clear error; hostile filters and forged cursors are 400s.
 */
import { request, type IncomingMessage } from 'node:http';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { T0_NS, hexId } from '../helpers/otlp.js';
import { exportSpans, makeExporter, makeTraceSpans, type Transport } from '../helpers/spans.js';

/** Stores `rows` spans (each with a `payload` attribute of `payloadChars`) and flushes them. */
async function fillLake(d: TestDaemon, rows: number, payloadChars: number): Promise<void> {
  const payload = 'x'.repeat(payloadChars);
  for (let r = 0; r < rows / 2000; r++) {
    const spans = Array.from({ length: 2000 }, (_, i) => ({
      traceId: hexId(16, 1 + r * 2000 + i),
      spanId: hexId(8, 1 + r * 2000 + i),
      name: i % 2 === 0 ? 'big' : 'small',
      kind: 2,
      startTimeUnixNano: (T0_NS + BigInt(r * 2000 + i)).toString(),
      endTimeUnixNano: (T0_NS + BigInt(r * 2000 + i) + 5n).toString(),
      attributes: [{ key: 'payload', value: { stringValue: `${payload}${i}` } }],
    }));
    const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });
    // One retry: a keep-alive socket the server closes as the client reuses it resets.
    const send = (): Promise<Response> => fetch(d.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const res = await send().catch(send);
    expect(res.status).toBe(200);
  }
  await d.pipeline.flush();
}

function post(d: TestDaemon, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(d.queryUrl('/api/v1/query'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
}

/** A query whose client reads nothing: the socket fills and the worker waits (backpressure). */
function stalledQuery(d: TestDaemon, body: Record<string, unknown>): Promise<{ res: IncomingMessage; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(d.queryUrl('/api/v1/query'), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.pause();
      resolve({ res, destroy: () => req.destroy() });
    });
    req.on('error', () => undefined);
    req.once('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function metric(d: TestDaemon, name: string): Promise<number> {
  const text = await (await fetch(d.telemetryUrl('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{') && l.includes(name));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls /healthz every 50 ms while `during` runs; returns the slowest answer in ms. */
async function slowestHealthz(d: TestDaemon, during: Promise<unknown>): Promise<number> {
  let done = false;
  void during.finally(() => (done = true));
  let worst = 0;
  let polls = 0;
  while (!done || polls < 3) {
    const t = performance.now();
    const res = await fetch(d.telemetryUrl('/healthz'));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    worst = Math.max(worst, performance.now() - t);
    polls++;
    await new Promise((r) => setTimeout(r, 50));
  }
  await during;
  return worst;
}

describe('query isolation', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmax_rows = 4000\nmax_age_seconds = 3600\n[parquet]\nrow_group_size = 1000\n[wal]\nfsync = "never"\n[query]\nworkers = 1\nmax_concurrent_queries = 2\ntimeout_seconds = 60');
    await fillLake(d, 20_000, 200);
  }, 120_000);

  afterAll(async () => {
    await d?.cleanup();
  });

  it('a broad Arrow answer of many messages (decoded in wasm) arrives whole from the worker', async () => {
    const res = await post(d, { dataset: 'traces', format: 'arrow' });
    expect(res.status).toBe(200);
    const stats = JSON.parse(res.headers.get('x-query-stats')!) as { rows_returned: number };
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.byteLength).toBeGreaterThan(2 * 2 ** 20); // several 1 MiB messages
    const table = tableFromIPC(bytes);
    expect(stats.rows_returned).toBeGreaterThanOrEqual(20_000);
    expect(table.numRows).toBe(stats.rows_returned);
    expect(String(table.schema.fields.find((f) => f.name === 'start_time')!.type)).toBe('Timestamp<NANOSECOND>');
    const last = table.getChild('attributes')!.get(table.numRows - 1) as { toJSON(): Record<string, string> };
    expect(last.toJSON().payload!.length).toBeGreaterThan(200);
  }, 60_000);

  it('every exporter batch succeeds within its timeout while two broad queries run back to back', async () => {
    let stop = false;
    let queries = 0;
    const broad = async (): Promise<void> => {
      while (!stop) {
        const res = await post(d, { dataset: 'traces', format: 'ndjson' });
        if (res.status === 429) {
          await res.arrayBuffer();
          continue; // both loops share max_concurrent_queries = 2 with nothing else: never expected
        }
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text.split('\n').length).toBeGreaterThan(20_000);
        queries++;
      }
    };
    const loops = [broad(), broad()];
    // Let the queries get going first.
    await until('a broad query to run', async () => (await metric(d, 's3parquet_queries_running')) >= 1);
    const transports: Transport[] = ['grpc', 'http-proto', 'http-json'];
    const worst: Record<string, number> = {};
    for (let round = 0; round < 4; round++) {
      for (const t of transports) {
        const exporter = makeExporter(t, d.ports);
        const started = performance.now();
        await exportSpans(exporter, makeTraceSpans(`svc-${t}-${round}`)); // throws on any failure
        const ms = performance.now() - started;
        worst[t] = Math.max(worst[t] ?? 0, ms);
        await exporter.shutdown();
      }
    }
    const during = await metric(d, 's3parquet_queries_running');
    stop = true;
    await Promise.all(loops);
    console.log(`exporter batches during broad queries: slowest ${JSON.stringify(Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, Math.round(v)])))} ms; ${queries} broad queries completed`);
    expect(during).toBeGreaterThanOrEqual(1);
    // The SDKs' export timeout is 10 s; an isolated receiver answers far sooner.
    for (const ms of Object.values(worst)) expect(ms).toBeLessThan(10_000);
  }, 180_000);

  it('the concurrency limit answers 429 with Retry-After; a client that leaves frees its worker (metric)', async () => {
    const stoppedBefore = await metric(d, 's3parquet_queries_stopped_total{reason="client_closed"}');
    // One worker: `a` runs (stalled by its reader), `b` waits for the worker; both are admitted.
    const a = await stalledQuery(d, { dataset: 'traces', format: 'ndjson' });
    expect(a.res.statusCode).toBe(200);
    const bAbort = new AbortController();
    const b = post(d, { dataset: 'traces', format: 'ndjson' }, bAbort.signal).catch(() => undefined);
    await until('the second query to be admitted', async () => (await metric(d, 's3parquet_queries_running')) === 2);
    const refused = await post(d, { dataset: 'traces', format: 'ndjson' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('TOO_MANY_QUERIES');
    expect(body.error.message).toContain('max_concurrent_queries');
    expect(await metric(d, 's3parquet_queries_running')).toBe(2);

    a.destroy();
    bAbort.abort();
    await b;
    await until('the abandoned queries to be stopped', async () => (await metric(d, 's3parquet_queries_running')) === 0);
    expect(await metric(d, 's3parquet_queries_stopped_total{reason="client_closed"}')).toBeGreaterThanOrEqual(stoppedBefore + 2);
    // The single worker is free again: a query is answered at once.
    const res = await post(d, { dataset: 'traces', filter: "trace_id = '" + hexId(16, 7) + "'" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { records: unknown[] }).records).toHaveLength(1);
  }, 120_000);

  it('Tempo, Jaeger and the UI summaries read on the worker pool: admitted (metric), 429 at the limit, stopped when their client leaves', async () => {
    await until('no query running', async () => (await metric(d, 's3parquet_queries_running')) === 0);
    const stoppedBefore = await metric(d, 's3parquet_queries_stopped_total{reason="client_closed"}');
    const rejectedBefore = await metric(d, 's3parquet_queries_stopped_total{reason="rejected"}');
    const around = `start=${Number(T0_NS / 1_000_000_000n) - 60}&end=${Number(T0_NS / 1_000_000_000n) + 60}`;
    const tempoSearch = `/tempo/api/search?q=${encodeURIComponent('{ name = "big" }')}&${around}&limit=5`;
    // `a` holds the only worker (its reader stalls); the Tempo search is admitted and waits for it.
    const a = await stalledQuery(d, { dataset: 'traces', format: 'ndjson' });
    expect(a.res.statusCode).toBe(200);
    const tempoAbort = new AbortController();
    const tempo = fetch(d.queryUrl(tempoSearch), { signal: tempoAbort.signal }).catch(() => undefined);
    // Counted by the pool: in-process it would never be.
    await until('the Tempo search to be admitted to the pool', async () => (await metric(d, 's3parquet_queries_running')) === 2);

    // max_concurrent_queries = 2 are running: every read API answers 429 with Retry-After.
    const tempoRefused = await fetch(d.queryUrl(tempoSearch));
    expect(tempoRefused.status).toBe(429);
    expect(tempoRefused.headers.get('retry-after')).toBe('1');
    expect(await tempoRefused.text()).toContain('max_concurrent_queries');
    const jaegerRefused = await fetch(d.queryUrl('/jaeger/api/traces?service=svc'));
    expect(jaegerRefused.status).toBe(429);
    expect(jaegerRefused.headers.get('retry-after')).toBe('1');
    expect(((await jaegerRefused.json()) as { errors: { code: number }[] }).errors[0]!.code).toBe(429);
    const uiRefused = await fetch(d.queryUrl('/api/v1/trace-search?service=svc'));
    expect(uiRefused.status).toBe(429);
    expect(uiRefused.headers.get('retry-after')).toBe('1');
    expect(((await uiRefused.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_QUERIES');
    expect(await metric(d, 's3parquet_queries_stopped_total{reason="rejected"}')).toBeGreaterThanOrEqual(rejectedBefore + 3);

    // The Tempo client leaves: its query is stopped (metric), and its slot is free.
    tempoAbort.abort();
    await tempo;
    await until('the Tempo search to be stopped', async () => (await metric(d, 's3parquet_queries_running')) === 1);
    expect(await metric(d, 's3parquet_queries_stopped_total{reason="client_closed"}')).toBeGreaterThanOrEqual(stoppedBefore + 1);
    a.destroy();
    await until('the stalled query to be stopped', async () => (await metric(d, 's3parquet_queries_running')) === 0);

    // With the worker free (a replacement may still be starting under tsx), the search is answered from the pool.
    let found: { traces: { traceID: string }[] } | undefined;
    await until('the Tempo search to be answered', async () => {
      const r = await fetch(d.queryUrl(tempoSearch));
      if (r.status !== 200) {
        await r.arrayBuffer();
        return false;
      }
      found = (await r.json()) as { traces: { traceID: string }[] };
      return true;
    }, 60_000);
    expect(found!.traces).toHaveLength(5);
  }, 120_000);

  it('abandoned broad json queries leave the daemon alive and within its memory bound', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    for (let round = 0; round < 3; round++) {
      const controllers = [new AbortController(), new AbortController()];
      const pending = controllers.map((c) => post(d, { dataset: 'traces' }, c.signal).then((r) => r.arrayBuffer()).catch(() => undefined));
      await new Promise((r) => setTimeout(r, 500));
      for (const c of controllers) c.abort();
      await Promise.all(pending);
    }
    await until('every abandoned query to stop', async () => (await metric(d, 's3parquet_queries_running')) === 0);
    clearInterval(sampler);
    expect((await fetch(d.telemetryUrl('/healthz'))).status).toBe(200);
    const growthMb = (peak - before) / 2 ** 20;
    console.log(`abandoned queries: RSS grew ${growthMb.toFixed(0)} MiB at peak`);
    // Bound: 2 queries × (16 MiB json cap + a 256 MiB worker heap budget + 64 MiB worker code) + slack.
    expect(growthMb).toBeLessThan(2 * (16 + 256 + 64) + 200);
  }, 120_000);

  it('a long LIKE pattern runs off the receivers’ thread: /healthz answers within 1 s throughout', async () => {
    const pattern = '%' + 'x%'.repeat(7000) + 'y%'; // ~14 KB, under max_filter_bytes
    const query = post(d, { dataset: 'traces', filter: `attributes['payload'] LIKE '${pattern}'`, select: ['span_id'] }).then(async (r) => {
      expect(r.status).toBe(200);
      return ((await r.json()) as { records: unknown[] }).records.length;
    });
    const worst = await slowestHealthz(d, query);
    console.log(`long LIKE: slowest /healthz ${worst.toFixed(0)} ms`);
    expect(await query).toBe(0);
    expect(worst).toBeLessThan(1000);
  }, 120_000);

  it('filters beyond max_filter_bytes or max_filter_depth are a 400, and so is a 66k-term OR', async () => {
    const cases = [
      { filter: `name LIKE '${'%a'.repeat(50_000)}'`, says: 'max_filter_bytes' },
      { filter: '('.repeat(3000) + "name = 'a'" + ')'.repeat(3000), says: 'max_filter_depth' },
      { filter: 'NOT '.repeat(100) + "name = 'a'", says: 'max_filter_depth' },
      { filter: Array.from({ length: 66_000 }, () => 'flags = 1').join(' OR '), says: 'max_filter_bytes' },
    ];
    for (const c of cases) {
      const res = await post(d, { dataset: 'traces', filter: c.filter });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('INVALID_ARGUMENT');
      expect(body.error.message).toContain(c.says);
    }
    // Nesting within the limit still works.
    const ok = await post(d, { dataset: 'traces', filter: '('.repeat(60) + `trace_id = '${hexId(16, 9)}'` + ')'.repeat(60) });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { records: unknown[] }).records).toHaveLength(1);
  });

  it('a forged cursor with an absurd watermark is a 400', async () => {
    for (const w of [Number.MAX_SAFE_INTEGER, -5, 8.64e15]) {
      const cursor = Buffer.from(JSON.stringify({ v: 1, d: 'traces', w, c: [] })).toString('base64url');
      const res = await fetch(d.queryUrl(`/api/v1/changes?dataset=traces&cursor=${cursor}`));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('watermark');
    }
  });
});

describe('query limits', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmax_rows = 4000\nmax_age_seconds = 3600\n[parquet]\nrow_group_size = 500\n[wal]\nfsync = "never"\n[query]\nworkers = 1\nmax_concurrent_queries = 3\ntimeout_seconds = 20\nmax_memory_mb_per_query = 32\nmax_json_response_mb = 1');
    // ~48 MB of attribute text: well past the 32 MiB budget however the heap is counted.
    await fillLake(d, 12_000, 4000);
  }, 120_000);

  afterAll(async () => {
    await d?.cleanup();
  });

  it('the memory budget stops a query with a clear error (507), and the daemon goes on', async () => {
    const res = await post(d, { dataset: 'traces', format: 'arrow' });
    expect(res.status).toBe(507);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUERY_MEMORY_EXCEEDED');
    expect(body.error.message).toContain('max_memory_mb_per_query');
    const small = await post(d, { dataset: 'traces', format: 'arrow', select: ['span_id'], limit: 10 });
    expect(small.status).toBe(200);
  }, 60_000);

  it('a json answer beyond max_json_response_mb is a 413 that says to use ndjson, arrow or a limit', async () => {
    const res = await post(d, { dataset: 'traces' });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUERY_RESULT_TOO_LARGE');
    expect(body.error.message).toMatch(/ndjson.*arrow.*limit/);
  }, 60_000);

  it('the time limit stops a query with a clear error: 504 before the answer, an error line within a stream', async () => {
    // A worker stopped by the previous tests is replaced; under tsx (tests) its start is slow.
    await until('a query worker to be ready', async () => {
      const r = await post(d, { dataset: 'traces', select: ['span_id'], limit: 1 });
      await r.arrayBuffer();
      return r.status === 200;
    }, 60_000);
    // A stalled stream holds the only worker until its deadline; the next query waits for it.
    const stalled = await stalledQuery(d, { dataset: 'traces', format: 'ndjson' });
    expect(stalled.res.statusCode).toBe(200);
    const waiting = await post(d, { dataset: 'traces', filter: `trace_id = '${hexId(16, 3)}'` });
    expect(waiting.status).toBe(504);
    const body = (await waiting.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUERY_TIMEOUT');
    expect(body.error.message).toContain('timeout_seconds');
    // The stalled stream ends with an error record naming the limit, and then is cut.
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      stalled.res.on('data', (c: Buffer) => chunks.push(c));
      stalled.res.on('error', () => resolve());
      stalled.res.on('close', () => resolve());
      stalled.res.resume();
    });
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text).toContain('"code":"QUERY_TIMEOUT"');
    await until('the timed-out queries to be gone', async () => (await metric(d, 's3parquet_queries_running')) === 0);
    expect(await metric(d, 's3parquet_queries_stopped_total{reason="timeout"}')).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
