/**
 * The S3 store against a real S3 server (Ceph radosgw, started by the suite): the whole path
 * with the official exporters, every [s3] option checked on the server, and faults.
 */
import { TRACES_SCHEMA_VERSION } from '../../src/schema/traces.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { S3Store, s3StoreOptions } from '../../src/store/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { exportLogs, makeLogExporter, makeLogRecords } from '../helpers/logs.js';
import { exportMetrics, makeMetricExporter, makeMetrics } from '../helpers/metrics.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';
import { awsS3Ls, downloadAll, listKeys } from '../helpers/s3-files.js';
import { s3ClientConfig, s3DaemonToml, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { exportSpans, makeExporter, makeTraceSpans } from '../helpers/spans.js';

let server: S3Server;
let client: S3Client;
let work: string;

beforeAll(async () => {
  server = await startS3Server();
  client = new S3Client(s3ClientConfig(server));
  work = await mkdtemp(join(tmpdir(), 's3pq-s3e2e-'));
}, 300_000);

afterAll(async () => {
  client?.destroy();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** TOML for a daemon writing to `bucket` on the test server (plus `extra` tables). */
function s3Toml(bucket: string, extra = '', endpoint = server.endpoint): string {
  return `
${s3DaemonToml(server, bucket, endpoint)}[buffer]
max_age_seconds = 3600
${extra}`;
}

async function sendSpans(d: TestDaemon, names: string[]): Promise<void> {
  const res = await fetch(d.httpUrl('/v1/traces'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(jsonTraceRequest(names.map((name) => jsonSpan({ name })))),
  });
  expect(res.status).toBe(200);
}

describe('S3 store against radosgw', () => {
  it('stores all three signals from the official exporters; the AWS CLI lists them and DuckDB reads them', async () => {
    const d = await startTestDaemon(s3Toml('lake-e2e', '[s3]\nprefix = "telemetry-data"'));
    try {
      const spans = makeTraceSpans('s3-svc');
      const te = makeExporter('http-proto', d.ports);
      await exportSpans(te, spans);
      await te.shutdown();
      const logs = await makeLogRecords('s3-svc');
      const le = makeLogExporter('grpc', d.ports);
      await exportLogs(le, logs);
      await le.shutdown();
      const le2 = makeMetricExporter('http-json', d.ports);
      await exportMetrics(le2, await makeMetrics('s3-svc'));
      await le2.shutdown();
      await d.pipeline.flush();
    } finally {
      await d.cleanup();
    }
    const listing = await awsS3Ls(server, 'lake-e2e');
    for (const ds of ['traces', 'logs', 'metrics']) expect(listing).toMatch(new RegExp(`telemetry-data/${ds}/date=\\d{4}-\\d\\d-\\d\\d/hour=\\d\\d/\\S+\\.parquet`));
    const local = join(work, 'e2e');
    const keys = await downloadAll(client, 'lake-e2e', 'telemetry-data/', local);
    expect(keys.every((k) => k.startsWith('telemetry-data/'))).toBe(true);
    const count = async (ds: string) =>
      (await duckdbQuery(`SELECT count(*)::INT AS n FROM read_parquet('${local}/telemetry-data/${ds}/**/*.parquet', hive_partitioning = true)`))[0]!.n;
    expect(await count('traces')).toBe(4);
    expect(await count('logs')).toBe(24);
    expect(await count('metrics')).toBe(17);
  });

  it('creates the bucket, applies versioning, lifecycle rules, storage class and tags', async () => {
    const d = await startTestDaemon(
      s3Toml(
        'lake-options',
        `[s3]\nstorage_class = "STANDARD_IA"\nversioning = true\ntags = { team = "obs", env = "test" }\n[s3.lifecycle]\nexpire_days = 30\ntransition_days = 7\ntransition_storage_class = "STANDARD_IA"`,
      ),
    );
    try {
      await sendSpans(d, ['opt']);
      await d.pipeline.flush();
    } finally {
      await d.cleanup();
    }
    await client.send(new HeadBucketCommand({ Bucket: 'lake-options' }));
    expect((await client.send(new GetBucketVersioningCommand({ Bucket: 'lake-options' }))).Status).toBe('Enabled');
    const rules = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lake-options' }))).Rules ?? [];
    expect(rules.map((r) => r.ID).sort()).toEqual(['s3pq-logs', 's3pq-metrics', 's3pq-traces']);
    const traces = rules.find((r) => r.ID === 's3pq-traces')!;
    expect(traces.Expiration?.Days).toBe(30);
    expect(traces.Transitions?.[0]).toMatchObject({ Days: 7, StorageClass: 'STANDARD_IA' });
    expect(traces.Filter?.Prefix).toBe('traces/');
    const [key] = await listKeys(client, 'lake-options', 'traces/');
    const head = await client.send(new HeadObjectCommand({ Bucket: 'lake-options', Key: key! }));
    expect(head.StorageClass).toBe('STANDARD_IA');
    const tags = (await client.send(new GetObjectTaggingCommand({ Bucket: 'lake-options', Key: key! }))).TagSet ?? [];
    expect(Object.fromEntries(tags.map((t) => [t.Key, t.Value]))).toEqual({ team: 'obs', env: 'test', dataset: 'traces', schema_version: String(TRACES_SCHEMA_VERSION) });
  });

  it('re-applies lifecycle rules idempotently and keeps rules it does not own', async () => {
    const toml = s3Toml('lake-options', '[s3.lifecycle]\nexpire_days = 10');
    for (let i = 0; i < 2; i++) {
      const d = await startTestDaemon(toml);
      await d.cleanup();
    }
    const rules = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lake-options' }))).Rules ?? [];
    expect(rules.filter((r) => r.ID?.startsWith('s3pq-'))).toHaveLength(3);
    expect(rules.find((r) => r.ID === 's3pq-logs')?.Expiration?.Days).toBe(10);
  });

  it('encrypts with SSE-KMS', async () => {
    const d = await startTestDaemon(s3Toml('lake-kms', `[s3.encryption]\ntype = "aws:kms"\nkms_key_id = "${server.kmsKeyId}"`));
    try {
      await sendSpans(d, ['kms']);
      await d.pipeline.flush();
    } finally {
      await d.cleanup();
    }
    const [key] = await listKeys(client, 'lake-kms', 'traces/');
    const head = await client.send(new HeadObjectCommand({ Bucket: 'lake-kms', Key: key! }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toContain(server.kmsKeyId);
  });

  it('encrypts client-side: the raw object is not Parquet, the store reads it back', async () => {
    const keyFile = join(work, 'master.key');
    await writeFile(keyFile, randomBytes(32).toString('base64'));
    const d = await startTestDaemon(s3Toml('lake-cse', `[s3.encryption]\ntype = "client"\nclient_key_file = "${keyFile}"`));
    let plain: Uint8Array;
    try {
      await sendSpans(d, ['secret-1', 'secret-2']);
      await d.pipeline.flush();
      const [key] = await listKeys(client, 'lake-cse', 'traces/');
      const raw = await (await client.send(new GetObjectCommand({ Bucket: 'lake-cse', Key: key! }))).Body!.transformToByteArray();
      expect(Buffer.from(raw.subarray(0, 4)).toString()).not.toBe('PAR1');
      expect(Buffer.from(raw).includes(Buffer.from('secret-1'))).toBe(false);
      plain = await d.store.get(key!);
      expect(Buffer.from(plain.subarray(0, 4)).toString()).toBe('PAR1');
      const tail = await d.store.getRange(key!, plain.length - 4, 4);
      expect(Buffer.from(tail).toString()).toBe('PAR1');
    } finally {
      await d.cleanup();
    }
    const file = join(work, 'cse.parquet');
    await writeFile(file, plain);
    expect(await duckdbQuery(`SELECT name FROM '${file}' ORDER BY name`)).toEqual([{ name: 'secret-1' }, { name: 'secret-2' }]);
  });

  it('uploads a file over the threshold in parts, and aborts a failed upload without leaving parts', async () => {
    const config = parseConfigText(s3Toml('lake-multipart', '[s3.multipart]\nthreshold_mb = 5\npart_size_mb = 5\nmax_concurrent_uploads = 2'));
    await client.send(new (await import('@aws-sdk/client-s3')).CreateBucketCommand({ Bucket: 'lake-multipart' }));
    const store = new S3Store(s3StoreOptions(config));
    const body = randomBytes(12 * 1024 * 1024);
    await store.put('big/object.bin', body, { dataset: 'traces' });
    // A multipart object's ETag is "<md5 of part md5s>-<part count>".
    const head = await client.send(new HeadObjectCommand({ Bucket: 'lake-multipart', Key: 'big/object.bin' }));
    expect(head.ETag).toMatch(/-3"?$/);
    const back = await store.get('big/object.bin');
    expect(Buffer.from(back).equals(body)).toBe(true);
    const small = randomBytes(1024);
    await store.put('big/small.bin', small);
    expect((await client.send(new HeadObjectCommand({ Bucket: 'lake-multipart', Key: 'big/small.bin' }))).ETag).not.toMatch(/-\d+"?$/);
    // A multipart upload that fails mid-way is aborted: no upload stays open.
    const proxy = await startFaultProxy(server.endpoint);
    const failing = new S3Store({ ...s3StoreOptions(parseConfigText(s3Toml('lake-multipart', '[s3.multipart]\nthreshold_mb = 5\npart_size_mb = 5\n[operations]\nretry_attempts = 0', proxy.url))) });
    proxy.script(['pass', 'pass', 'reset', 'reset', 'reset', 'reset', 'reset', 'reset']);
    await expect(failing.put('big/failed.bin', randomBytes(12 * 1024 * 1024))).rejects.toThrow(/S3 multipartUpload s3:\/\/lake-multipart\/big\/failed.bin failed/);
    await failing.close();
    await proxy.close();
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket: 'lake-multipart' }));
    expect(open.Uploads ?? []).toEqual([]);
    expect(await listKeys(client, 'lake-multipart', 'big/')).toEqual(['big/object.bin', 'big/small.bin']);
    await store.close();
  });

  it('retries through resets, delays and 503s: everything arrives once', async () => {
    const proxy = await startFaultProxy(server.endpoint, 200);
    const d = await startTestDaemon(s3Toml('lake-faults', '[operations]\nretry_attempts = 6', proxy.url));
    try {
      for (let round = 0; round < 4; round++) {
        // The connection after each fault is a retry; only the last (delayed) one succeeds.
        proxy.script(['reset', 'http503', 'reset', 'http503', 'delay']);
        await sendSpans(d, Array.from({ length: 10 }, (_, i) => `fault-${round}-${i}`));
        await d.pipeline.flush();
        expect(proxy.pending()).toBe(0);
      }
      expect(proxy.seen.reset).toBeGreaterThanOrEqual(8);
      expect(proxy.seen.http503).toBeGreaterThanOrEqual(8);
      expect(d.pipeline.bufferedRows).toBe(0);
    } finally {
      await d.cleanup();
      await proxy.close();
    }
    const local = join(work, 'faults');
    await downloadAll(client, 'lake-faults', 'traces/', local);
    const rows = await duckdbQuery(`SELECT count(*)::INT AS n, count(DISTINCT name)::INT AS names FROM read_parquet('${local}/traces/**/*.parquet')`);
    expect(rows).toEqual([{ n: 40, names: 40 }]);
  });

  it('serves the query port from S3 with ranged reads: filters, trace lookup, delete', async () => {
    const d = await startTestDaemon(s3Toml('lake-query', '[parquet]\nrow_group_size = 5'));
    try {
      const spans = makeTraceSpans('q-svc');
      const exporter = makeExporter('grpc', d.ports);
      await exportSpans(exporter, spans);
      await exporter.shutdown();
      await sendSpans(d, Array.from({ length: 30 }, (_, i) => `q-${i}`));
      await d.pipeline.flush();
      const res = await fetch(d.queryUrl('/api/v1/query'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataset: 'traces', filter: "name LIKE 'q-%' OR service_name = 'q-svc'", select: ['name'] }),
      });
      const body = (await res.json()) as { records: { name: string }[]; stats: Record<string, number> };
      expect(res.status).toBe(200);
      expect(body.records).toHaveLength(30 + spans.length);
      expect(body.stats.bytes_read).toBeGreaterThan(0);
      const traceId = spans[0]!.spanContext().traceId;
      const trace = (await (await fetch(d.queryUrl(`/api/v1/traces/${traceId}`))).json()) as { spans: { span_id: string }[] };
      expect(trace.spans.map((s) => s.span_id).sort()).toEqual(spans.filter((s) => s.spanContext().traceId === traceId).map((s) => s.spanContext().spanId).sort());
      const partitions = (await (await fetch(d.queryUrl('/api/v1/partitions?dataset=traces'))).json()) as { partitions: string[] };
      expect(partitions.partitions).toEqual(['traces/date=2023-12-31/hour=00', 'traces/date=2024-01-01/hour=00']);
      const del = await fetch(d.queryUrl('/api/v1/partitions/traces/date=2023-12-31/hour=00'), { method: 'DELETE' });
      expect(del.status).toBe(204);
      expect(await listKeys(client, 'lake-query', 'traces/date=2023-12-31/')).toEqual([]);
      expect((await listKeys(client, 'lake-query', 'traces/date=2024-01-01/')).length).toBeGreaterThan(0);
    } finally {
      await d.cleanup();
    }
  });

  it('keeps the write log under the prefix: changes delivers each record once, queries use the log', async () => {
    const d = await startTestDaemon(s3Toml('lake-wlog', '[s3]\nprefix = "tenant/lake"'));
    try {
      const changes = async (cursor?: string): Promise<{ names: string[]; cursor: string }> => {
        const res = await fetch(d.queryUrl(`/api/v1/changes?dataset=traces&select=name${cursor ? `&cursor=${cursor}` : ''}`));
        expect(res.status).toBe(200);
        const names = (await res.text()).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { name: string }).name);
        return { names, cursor: res.headers.get('x-next-cursor')! };
      };
      await sendSpans(d, ['w-0', 'w-1']);
      await d.pipeline.flush();
      const r1 = await changes();
      expect(r1.names.sort()).toEqual(['w-0', 'w-1']);
      await sendSpans(d, ['w-2', 'w-3', 'w-4']);
      await d.pipeline.flush();
      const r2 = await changes(r1.cursor);
      expect(r2.names.sort()).toEqual(['w-2', 'w-3', 'w-4']);
      expect((await changes(r2.cursor)).names).toEqual([]);

      const entries = await listKeys(client, 'lake-wlog', 'tenant/lake/_log/traces/');
      expect(entries).toHaveLength(2);
      expect(await listKeys(client, 'lake-wlog', 'tenant/lake/_log/traces.checkpoint.json')).toHaveLength(1);
      // The server starts the listing after the given key (the log lists from a time on).
      const after: string[] = [];
      for await (const o of d.store.list('_log/traces/', { startAfter: entries[0]!.slice('tenant/lake/'.length) })) after.push(o.key);
      expect(after).toEqual([entries[1]!.slice('tenant/lake/'.length)]);

      const res = await fetch(d.queryUrl('/api/v1/query'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'traces', select: ['name'] }) });
      const body = (await res.json()) as { records: { name: string }[]; stats: Record<string, number> };
      expect(body.records.map((r) => r.name).sort()).toEqual(['w-0', 'w-1', 'w-2', 'w-3', 'w-4']);
      expect(body.stats.files_from_log).toBe(2);
      expect(body.stats.list_requests).toBe(1);
    } finally {
      await d.cleanup();
    }
  });

  it('fails at startup with a clear message for wrong credentials or a missing bucket', async () => {
    const logger = createLogger('silent');
    const bad = parseConfigText(s3Toml('lake-e2e').replace(`secret_access_key = "${server.secretAccessKey}"`, 'secret_access_key = "wrong"'));
    await expect(startDaemon(bad, { logger })).rejects.toThrow(/bucket "lake-e2e" \(region us-east-1, endpoint http:\/\/127\.0\.0\.1:\d+\): SignatureDoesNotMatch \(HTTP 403\)/);
    const missing = parseConfigText(s3Toml('no-such-bucket').replace('create_bucket = true', 'create_bucket = false'));
    await expect(startDaemon(missing, { logger })).rejects.toThrow(/bucket "no-such-bucket" .*the bucket does not exist; create it or set s3.create_bucket = true/);
  });
});
