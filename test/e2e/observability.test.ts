/**
 * Operating the daemon: /metrics after a known load (parsed as Prometheus text, counters equal
 * to what was sent and written), /healthz, /readyz (503 while the S3 store is unreachable behind
 * a connection-resetting proxy, 200 again once it answers), where the routes are served, and the
 * log lines an operator relies on.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { parquetFiles } from '../helpers/files.js';
import { startFaultProxy, type FaultMode } from '../helpers/fault-proxy.js';
import { requestWithOneBad } from '../helpers/otlp-requests.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';
import { sampleValue, scrape, type Family } from '../helpers/prometheus.js';
import { s3DaemonToml, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { exportSpans, makeExporter, makeTraceSpans } from '../helpers/spans.js';
import { waitFor } from '../helpers/wait.js';

const METRIC_NAMES = [
  's3parquet_records_received_total',
  's3parquet_records_rejected_total',
  's3parquet_requests_total',
  's3parquet_request_duration_seconds',
  's3parquet_buffered_records',
  's3parquet_buffered_bytes',
  's3parquet_files_written_total',
  's3parquet_records_written_total',
  's3parquet_bytes_written_total',
  's3parquet_compression_ratio',
  's3parquet_flush_duration_seconds',
  's3parquet_store_requests_total',
  's3parquet_store_request_duration_seconds',
  's3parquet_wal_bytes',
  's3parquet_query_duration_seconds',
];

async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('metrics after a known load', () => {
  let d: TestDaemon;
  let m: Map<string, Family>;
  let grpcSpans: number;
  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    // HTTP: 7 good spans; then 3 good + 1 with a bad trace id (partial success); then garbage (400).
    expect((await postJson(d.httpUrl('/v1/traces'), jsonTraceRequest(Array.from({ length: 7 }, (_, i) => jsonSpan({ name: `h-${i}` }))))).status).toBe(200);
    expect((await postJson(d.httpUrl('/v1/traces'), requestWithOneBad('traces', 'partial', 3))).status).toBe(200);
    expect((await postJson(d.httpUrl('/v1/traces'), '{"resourceSpans": [')).status).toBe(400);
    // gRPC: the official exporter's spans (one of them a day late: a second partition).
    const spans = makeTraceSpans('obs-svc');
    grpcSpans = spans.length;
    const exporter = makeExporter('grpc', d.ports);
    await exportSpans(exporter, spans);
    await exporter.shutdown();
    // Logs over HTTP, one of them refused (bad span id).
    expect((await postJson(d.httpUrl('/v1/logs'), requestWithOneBad('logs', 'obs-logs', 2))).status).toBe(200);
    await d.pipeline.flush();
    // A query, for the read side.
    const q = await postJson(d.queryUrl('/api/v1/query'), { dataset: 'traces', select: ['name'] });
    expect(q.status).toBe(200);
    m = await scrape(d.telemetryUrl('/metrics'));
  });
  afterAll(async () => {
    await d?.cleanup();
  });

  it('exposes every documented metric and Node process metrics, in valid Prometheus text', () => {
    for (const name of METRIC_NAMES) expect(m.has(name), name).toBe(true);
    expect(m.get('s3parquet_request_duration_seconds')!.type).toBe('histogram');
    expect(m.get('s3parquet_records_received_total')!.type).toBe('counter');
    expect(m.get('s3parquet_buffered_records')!.type).toBe('gauge');
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
    expect(m.has('nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('counts received, rejected and answered requests per signal and transport', () => {
    expect(sampleValue(m, 's3parquet_records_received_total', { signal: 'traces', transport: 'http' })).toBe(7 + 4);
    expect(sampleValue(m, 's3parquet_records_received_total', { signal: 'traces', transport: 'grpc' })).toBe(grpcSpans);
    expect(sampleValue(m, 's3parquet_records_received_total', { signal: 'logs', transport: 'http' })).toBe(3);
    expect(sampleValue(m, 's3parquet_records_received_total', { signal: 'metrics', transport: 'grpc' })).toBe(0);
    expect(sampleValue(m, 's3parquet_records_rejected_total', { signal: 'traces', reason: 'invalid_trace_id' })).toBe(1);
    expect(sampleValue(m, 's3parquet_records_rejected_total', { signal: 'logs', reason: 'invalid_span_id' })).toBe(1);
    expect(sampleValue(m, 's3parquet_requests_total', { signal: 'traces', transport: 'http', code: '200' })).toBe(2);
    expect(sampleValue(m, 's3parquet_requests_total', { signal: 'traces', transport: 'http', code: '400' })).toBe(1);
    expect(sampleValue(m, 's3parquet_requests_total', { signal: 'traces', transport: 'grpc', code: 'OK' })).toBe(1);
    expect(sampleValue(m, 's3parquet_request_duration_seconds_count', { signal: 'traces', transport: 'http' })).toBe(3);
  });

  it('counts written files, records and bytes equal to what is in the store', async () => {
    const root = join(d.dir, 'data');
    const files = (await parquetFiles(root)).filter((f) => f.startsWith('traces/'));
    let bytes = 0;
    for (const f of files) bytes += (await stat(join(root, f))).size;
    expect(files.length).toBe(2); // today's partition and the late span's
    expect(sampleValue(m, 's3parquet_files_written_total', { dataset: 'traces' })).toBe(files.length);
    expect(sampleValue(m, 's3parquet_records_written_total', { dataset: 'traces' })).toBe(7 + 3 + grpcSpans);
    expect(sampleValue(m, 's3parquet_bytes_written_total', { dataset: 'traces' })).toBe(bytes);
    expect(sampleValue(m, 's3parquet_records_written_total', { dataset: 'logs' })).toBe(2);
    expect(sampleValue(m, 's3parquet_files_written_total', { dataset: 'metrics' })).toBe(0);
    expect(sampleValue(m, 's3parquet_flush_duration_seconds_count', { dataset: 'traces' })).toBe(files.length);
    expect(sampleValue(m, 's3parquet_compression_ratio', { dataset: 'traces' })).toBeGreaterThan(0);
    expect(sampleValue(m, 's3parquet_buffered_records', { dataset: 'traces' })).toBe(0);
    expect(sampleValue(m, 's3parquet_buffered_bytes')).toBe(0);
    // The Parquet files (traces, plus one logs file), one write log entry per flush, and the
    // write log checkpoints written at startup for the three empty datasets.
    expect(sampleValue(m, 's3parquet_store_requests_total', { operation: 'putObject', outcome: 'success' })).toBe(files.length + 1 + (files.length + 1) + 3);
    expect(sampleValue(m, 's3parquet_query_duration_seconds_count', { route: 'query' })).toBe(1);
    // Everything is stored, but the active write-ahead-log segment (with its commit records) remains.
    expect(sampleValue(m, 's3parquet_wal_bytes')).toBe(await walBytes(d.dir));
  });

  it('gives the library the same numbers', () => {
    const w = d.telemetry.metrics.getWriteMetrics();
    expect(w.filesWritten).toBe(3);
    expect(w.recordsWritten).toBe(7 + 3 + grpcSpans + 2);
    expect(w.bytesWritten).toBe(
      ['traces', 'logs'].reduce((n, dataset) => n + sampleValue(m, 's3parquet_bytes_written_total', { dataset })!, 0),
    );
    expect(w.compressionRatio).toBeGreaterThan(0);
    expect(w.avgLatency).toBeGreaterThan(0);
    expect(w.throughput).toBeGreaterThan(0);
    const r = d.telemetry.metrics.getReadMetrics();
    expect(r).toMatchObject({ queries: 1, recordsReturned: 7 + 3 + grpcSpans });
    const s = d.telemetry.metrics.getS3Metrics();
    expect(s.requestCount).toBeGreaterThanOrEqual(3);
    expect(s.errorCount).toBe(0);
  });

  it('buffered gauges follow the pipeline per dataset', async () => {
    expect((await postJson(d.httpUrl('/v1/logs'), requestWithOneBad('logs', 'buffered', 4))).status).toBe(200);
    const now = await scrape(d.telemetryUrl('/metrics'));
    expect(sampleValue(now, 's3parquet_buffered_records', { dataset: 'logs' })).toBe(4);
    expect(sampleValue(now, 's3parquet_buffered_records', { dataset: 'traces' })).toBe(0);
    expect(sampleValue(now, 's3parquet_buffered_bytes')).toBe(d.pipeline.bufferedBytes);
    expect(d.pipeline.bufferedBytes).toBeGreaterThan(0);
  });

  it('logs each flush with dataset, partition, rows, bytes, ratio and duration', () => {
    const flushed = d.logs.filter((l) => l.msg === 'flushed' && l.dataset === 'traces');
    expect(flushed).toHaveLength(2);
    for (const l of flushed) {
      expect(l).toMatchObject({ dataset: 'traces', partition: expect.stringMatching(/^date=\d{4}-\d\d-\d\d\/hour=\d\d$/) });
      expect(l.rows).toBeGreaterThan(0);
      expect(l.bytes).toBeGreaterThan(0);
      expect(l.ratio).toBeGreaterThan(0);
      expect(typeof l.duration_ms).toBe('number');
    }
  });

  it('logs rejected requests and refused records, rate limited per reason', async () => {
    const records = d.logs.filter((l) => l.msg === 'records rejected');
    expect(records.map((l) => [l.signal, l.reason, l.rejected])).toEqual(
      expect.arrayContaining([
        ['traces', 'invalid_trace_id', 1],
        ['logs', 'invalid_span_id', 1],
      ]),
    );
    // 14 more undecodable requests: at most 10 lines per reason per 10 s (one was logged above).
    for (let i = 0; i < 14; i++) expect((await postJson(d.httpUrl('/v1/traces'), 'not json')).status).toBe(400);
    const rejected = d.logs.filter((l) => l.msg === 'request rejected' && l.reason === 'invalid_argument');
    expect(rejected).toHaveLength(10);
    expect(rejected[0]).toMatchObject({ signal: 'traces', transport: 'http', code: '400', suppressed: 0 });
    const after = await scrape(d.telemetryUrl('/metrics'));
    expect(sampleValue(after, 's3parquet_requests_total', { signal: 'traces', transport: 'http', code: '400' })).toBe(15);
  });

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(d.telemetryUrl('/healthz'));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(d.telemetryUrl('/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { listeners: 'ok', store: 'ok', wal: 'ok', flushes: 'ok' } });
    expect((await fetch(d.telemetryUrl('/metrics'), { method: 'POST' })).status).toBe(405);
  });
});

describe('where /metrics, /healthz and /readyz are served', () => {
  it('on the query port by default', async () => {
    const d = await startTestDaemon();
    try {
      expect(d.ports.telemetry).toBe(d.ports.query);
      expect((await fetch(d.queryUrl('/healthz'))).status).toBe(200);
    } finally {
      await d.cleanup();
    }
  });

  it('on a listener of their own with the query port disabled, or at [telemetry] endpoint', async () => {
    const own = await startTestDaemon('[query]\nenabled = false\nendpoint = "127.0.0.1:0"');
    try {
      expect(own.ports.query).toBeUndefined();
      expect(own.ports.telemetry).toBeGreaterThan(0);
      expect((await fetch(own.telemetryUrl('/readyz'))).status).toBe(200);
      const api = await fetch(own.telemetryUrl('/api/v1/partitions?dataset=traces'));
      expect(api.status).toBe(404); // the data API is not there
      await scrape(own.telemetryUrl('/metrics'));
    } finally {
      await own.cleanup();
    }
    const separate = await startTestDaemon('[telemetry]\nendpoint = "127.0.0.1:0"');
    try {
      expect(separate.ports.telemetry).not.toBe(separate.ports.query);
      expect((await fetch(separate.telemetryUrl('/healthz'))).status).toBe(200);
      expect((await fetch(separate.queryUrl('/healthz'))).status).toBe(404);
    } finally {
      await separate.cleanup();
    }
  });

  it('nowhere with [telemetry] enabled = false', async () => {
    const d = await startTestDaemon('[telemetry]\nenabled = false');
    try {
      expect(d.ports.telemetry).toBeUndefined();
      expect((await fetch(d.queryUrl('/metrics'))).status).toBe(404);
      // The numbers are still kept for the library.
      expect(d.telemetry.metrics.getWriteMetrics().filesWritten).toBe(0);
    } finally {
      await d.cleanup();
    }
  });
});

describe('/readyz against an S3 store', () => {
  let server: S3Server;
  beforeAll(async () => {
    server = await startS3Server();
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('goes 503 while the store is unreachable and back to 200 when it returns', async () => {
    const proxy = await startFaultProxy(server.endpoint);
    const walDir = await mkdtemp(join(tmpdir(), 's3pq-readyz-wal-'));
    const d = await startTestDaemon(`
[wal]
dir = "${walDir}"
[buffer]
max_age_seconds = 3600
${s3DaemonToml(server, 'lake-readyz', proxy.url)}[operations]
retry_attempts = 1
timeout_seconds = 5
`);
    try {
      const ready = await fetch(d.telemetryUrl('/readyz'));
      expect(ready.status).toBe(200);
      // Every new connection is reset (open ones are cut first).
      proxy.script(Array.from<FaultMode>({ length: 100_000 }).fill('reset'));
      const down = await waitFor(
        async () => {
          const res = await fetch(d.telemetryUrl('/readyz'));
          return res.status === 503 ? ((await res.json()) as { status: string; reason: string; checks: Record<string, string> }) : undefined;
        },
        15_000,
        '/readyz to answer 503',
      );
      expect(down.status).toBe('not ready');
      expect(down.reason).toMatch(/^store unreachable: /);
      expect(down.checks).toMatchObject({ listeners: 'ok', wal: 'ok' });
      expect(JSON.stringify(down)).not.toContain(server.secretAccessKey);
      expect((await fetch(d.telemetryUrl('/healthz'))).status).toBe(200); // alive all the same
      const m = await scrape(d.telemetryUrl('/metrics'));
      expect(sampleValue(m, 's3parquet_store_requests_total', { operation: 'listObjects', outcome: 'error' })).toBeGreaterThanOrEqual(1);
      expect(d.logs.some((l) => l.msg === 'store request failed' && l.operation === 'listObjects')).toBe(true);
      expect(JSON.stringify(d.logs)).not.toContain(server.secretAccessKey);
      // A flush now fails and is retried; /readyz says so.
      expect((await postJson(d.httpUrl('/v1/traces'), jsonTraceRequest([jsonSpan({ name: 'during-outage' })]))).status).toBe(200);
      await d.pipeline.flush();
      const failing = (await (await fetch(d.telemetryUrl('/readyz'))).json()) as { checks: Record<string, string> };
      expect(failing.checks.flushes).toBe('failing; retrying with backoff');
      const m2 = await scrape(d.telemetryUrl('/metrics'));
      expect(sampleValue(m2, 's3parquet_store_requests_total', { operation: 'putObject', outcome: 'error' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(m2, 's3parquet_buffered_records', { dataset: 'traces' })).toBe(1);

      proxy.script([]); // the store is back
      await waitFor(async () => (await fetch(d.telemetryUrl('/readyz'))).status === 200, 15_000, '/readyz to answer 200 again');
      // The retried flush lands (backoff: about a second) and the counters say so.
      await waitFor(async () => sampleValue(await scrape(d.telemetryUrl('/metrics')), 's3parquet_files_written_total', { dataset: 'traces' }) === 1, 15_000, 'the retried flush');
      const back = (await (await fetch(d.telemetryUrl('/readyz'))).json()) as { checks: Record<string, string> };
      expect(back.checks).toEqual({ listeners: 'ok', store: 'ok', wal: 'ok', flushes: 'ok' });
      expect(d.telemetry.metrics.getS3Metrics().errorCount).toBeGreaterThanOrEqual(2);
    } finally {
      proxy.script([]);
      await d.cleanup();
      await proxy.close();
      await rm(walDir, { recursive: true, force: true });
    }
  });
});

/** Bytes of the daemon's write-ahead-log segments on disk (the default `{local_path}/.wal`). */
async function walBytes(dir: string): Promise<number> {
  const { readdir, stat } = await import('node:fs/promises');
  const walDir = `${dir}/data/.wal`;
  let total = 0;
  // Segments only: the directory also holds the daemon's LOCK file.
  for (const name of await readdir(walDir)) if (name.endsWith('.wal')) total += (await stat(`${walDir}/${name}`)).size;
  return total;
}
