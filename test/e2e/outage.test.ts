/**
 * A store outage under load: S3 (radosgw behind a proxy) becomes unreachable for a while.
 * Requests keep being acknowledged into the write-ahead log, readiness reports the failing
 * flushes, and once the store is back the backlog drains: every acknowledged span is stored
 * exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../helpers/daemon.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { T0_NS, hexId } from '../helpers/otlp.js';
import { downloadAll } from '../helpers/s3-files.js';
import { s3ClientConfig, s3DaemonToml, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { waitFor } from '../helpers/wait.js';

let server: S3Server;
let work: string;
beforeAll(async () => {
  server = await startS3Server();
  work = await mkdtemp(join(tmpdir(), 's3pq-outage-'));
}, 300_000);
afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('store outage', () => {
  it('acknowledges into the WAL while S3 is down and drains everything afterwards', async () => {
    const proxy = await startFaultProxy(server.endpoint);
    const d = await startTestDaemon(`
${s3DaemonToml(server, 'lake-outage', proxy.url)}[operations]
retry_attempts = 1
timeout_seconds = 2
[buffer]
max_rows = 200
max_age_seconds = 0.2
[wal]
dir = "${join(work, 'wal')}"
`);
    const acked: string[] = [];
    let refused = 0;
    let degradedSeen = false;
    const send = async (n: number) => {
      const spans = Array.from({ length: 10 }, (_, i) => ({
        traceId: hexId(16, 1 + n * 10 + i),
        spanId: hexId(8, 1 + n * 10 + i),
        name: `r${n}`,
        kind: 2,
        startTimeUnixNano: (T0_NS + BigInt(n)).toString(),
        endTimeUnixNano: (T0_NS + BigInt(n) + 1n).toString(),
      }));
      const res = await fetch(d.httpUrl('/v1/traces'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }),
      });
      if (res.status === 200) acked.push(`r${n}`);
      else refused++;
    };
    try {
      let n = 0;
      const load = async (ms: number) => {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          await Promise.all([send(n++), send(n++), send(n++)]);
          degradedSeen ||= d.pipeline.degraded;
        }
      };
      // Sampled on a timer too: a flush fails (and is put back) between two rounds of requests.
      const sampler = setInterval(() => (degradedSeen ||= d.pipeline.degraded), 10);
      await load(600);
      proxy.setDown(true);
      // The outage lasts at least 2.5 s and until a flush has failed: on a loaded machine the
      // first flush attempt into the outage can take longer than that to give up.
      const outageStart = Date.now();
      while (!degradedSeen || Date.now() - outageStart < 2500) {
        if (Date.now() - outageStart > 60_000) break;
        await load(200);
      }
      clearInterval(sampler);
      expect(d.pipeline.bufferedRows).toBeGreaterThan(0);
      proxy.setDown(false);
      await load(600);
      // The backlog drains once flush retries (with backoff) find the store again.
      await waitFor(() => d.pipeline.bufferedRows === 0 && !d.pipeline.degraded, 60_000, 'the backlog to drain');
      expect(degradedSeen).toBe(true);
      expect(refused).toBe(0); // the outage never reached the clients
      expect(acked.length).toBe(n);
    } finally {
      await d.cleanup();
      await proxy.close();
    }
    const client = new S3Client(s3ClientConfig(server));
    const local = join(work, 'download');
    await downloadAll(client, 'lake-outage', 'traces/', local);
    client.destroy();
    const rows = await duckdbQuery(`SELECT name, count(*)::INT AS n FROM read_parquet('${local}/traces/**/*.parquet') GROUP BY name`);
    const counts = new Map(rows.map((r) => [r.name as string, r.n as number]));
    expect(acked.filter((name) => counts.get(name) !== 10)).toEqual([]);
    expect(counts.size).toBe(acked.length);
  });

  it('stores a flush once when the store wrote an object but its answer was lost', async () => {
    const proxy = await startFaultProxy(server.endpoint);
    const d = await startTestDaemon(`
${s3DaemonToml(server, 'lake-lost-answer', proxy.url)}[operations]
retry_attempts = 1
timeout_seconds = 2
[buffer]
max_rows = 100000
max_age_seconds = 3600
[wal]
dir = "${join(work, 'wal-lost-answer')}"
`);
    try {
      const spans = Array.from({ length: 50 }, (_, i) => ({
        traceId: hexId(16, 7000 + i),
        spanId: hexId(8, 7000 + i),
        name: 'lost-answer',
        kind: 2,
        startTimeUnixNano: (T0_NS + BigInt(i)).toString(),
        endTimeUnixNano: (T0_NS + BigInt(i) + 1n).toString(),
      }));
      const res = await fetch(d.httpUrl('/v1/traces'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }),
      });
      expect(res.status).toBe(200);
      // The next connection is the flush's PUT: radosgw stores the object, the daemon hears nothing;
      // the SDK's own retries of it then fail too, so the flush fails as a whole.
      proxy.script(['drop-response', 'reset', 'reset', 'reset', 'reset']);
      await d.pipeline.flush();
      expect(proxy.seen['drop-response']).toBe(1);
      expect(d.pipeline.bufferedRows).toBe(50); // the flush failed as far as the daemon knows
      await waitFor(() => d.pipeline.bufferedRows === 0, 60_000, 'the retried flush');
    } finally {
      await d.cleanup();
      await proxy.close();
    }
    const client = new S3Client(s3ClientConfig(server));
    const local = join(work, 'download-lost-answer');
    const keys = await downloadAll(client, 'lake-lost-answer', 'traces/', local);
    client.destroy();
    const rows = await duckdbQuery(`SELECT count(*)::INT AS n, count(DISTINCT span_id)::INT AS ids FROM read_parquet('${local}/traces/**/*.parquet')`);
    expect(rows[0]).toEqual({ n: 50, ids: 50 });
    expect(keys.filter((k) => k.endsWith('.parquet'))).toHaveLength(1);
  });
});
