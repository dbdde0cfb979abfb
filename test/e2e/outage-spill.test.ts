/**
 * Outages longer than memory (issue 20): the radosgw process is stopped (SIGSTOP) while four
 * clients send three times `memory_limit_mb` of traces. Buffered records beyond the budget
 * spill (they live only in the write-ahead log), so every request is answered 200 — none is
 * given up — and the daemon's resident memory stays bounded. radosgw runs again, the backlog
 * drains while new requests are still accepted, and every span is in S3 exactly once (DuckDB
 * over the downloaded objects). The second test kills the daemon (-9) in the middle of the
 * outage and restarts it on the same log.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServingProcess } from '../helpers/cli.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { T0_NS, hexId } from '../helpers/otlp.js';
import { downloadAll } from '../helpers/s3-files.js';
import { s3ClientConfig, s3DaemonToml, startS3Server, type S3Server } from '../helpers/s3-server.js';

const LIMIT_MB = 16;
/** The issue's bound: resident memory within the limit plus 150 MiB (over the idle daemon). */
const MARGIN_MB = 150;
const SPANS = 400;
const PAYLOAD = 'p'.repeat(1500);

let server: S3Server;
let work: string;
beforeAll(async () => {
  server = await startS3Server();
  work = await mkdtemp(join(tmpdir(), 's3pq-outage-spill-'));
}, 300_000);
afterAll(async () => {
  server?.resume();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function writeConfig(name: string, bucket: string): Promise<string> {
  const path = join(work, `${name}.toml`);
  await writeFile(
    path,
    `[receivers.grpc]
endpoint = "127.0.0.1:0"
[receivers.http]
endpoint = "127.0.0.1:0"
[query]
enabled = false
[telemetry]
enabled = false
${s3DaemonToml(server, bucket)}[operations]
retry_attempts = 1
timeout_seconds = 2
[buffer]
max_rows = 20000
max_bytes_mb = 8
max_age_seconds = 1
memory_limit_mb = ${LIMIT_MB}
[wal]
dir = "${join(work, `${name}-wal`)}"
fsync = "never"
[partitioning]
max_past_hours = 0
`,
  );
  return path;
}

function body(name: string, seed: number): string {
  const spans = Array.from({ length: SPANS }, (_, i) => ({
    traceId: hexId(16, seed * 1000 + i + 1),
    spanId: hexId(8, i + 1),
    name,
    kind: 2,
    startTimeUnixNano: (T0_NS + BigInt(i)).toString(),
    endTimeUnixNano: (T0_NS + BigInt(i) + 1n).toString(),
    attributes: [{ key: 'payload', value: { stringValue: PAYLOAD } }],
  }));
  return JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
}

/** Clients that retry every refusal (as SDKs do) until a deadline; what they give up is counted. */
class Clients {
  readonly acked: string[] = [];
  refusals = 0;
  givenUp = 0;
  sentBytes = 0;
  private seed = 0;

  constructor(private readonly port: () => number) {}

  async send(name: string): Promise<void> {
    const payload = body(name, ++this.seed);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${this.port()}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload }).catch(() => null);
      await res?.arrayBuffer();
      if (res?.status === 200) {
        this.acked.push(name);
        this.sentBytes += payload.length;
        return;
      }
      if (res && res.status !== 503 && res.status !== 429) throw new Error(`unexpected status ${res.status}`);
      this.refusals++;
      await new Promise((r) => setTimeout(r, 100));
    }
    this.givenUp++;
  }

  /** Four clients until `bytes` of requests are acknowledged. */
  async sendBytes(prefix: string, bytes: number): Promise<void> {
    const target = this.sentBytes + bytes;
    let n = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (this.sentBytes < target && this.givenUp === 0) await this.send(`${prefix}-${n++}`);
      }),
    );
  }
}

function sampleRss(pid: number): { peak: () => number; stop: () => void } {
  let peak = 0;
  const timer = setInterval(() => void rssMb(pid).then((v) => (peak = Math.max(peak, v)), () => undefined), 50);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

async function countsIn(bucket: string, dir: string): Promise<Map<string, number>> {
  const client = new S3Client(s3ClientConfig(server));
  await downloadAll(client, bucket, 'traces/', dir);
  client.destroy();
  const rows = await duckdbQuery(`SELECT name, count(*)::INT AS n, count(DISTINCT trace_id)::INT AS ids FROM read_parquet('${dir}/traces/**/*.parquet') GROUP BY name`);
  for (const r of rows) expect(r.ids).toBe(r.n);
  return new Map(rows.map((r) => [r.name as string, r.n as number]));
}

function serve(config: string): Promise<ServingProcess> {
  return startServe(['--config', config], { env: process.env.S3PQ_NODE_OPTIONS ? { NODE_OPTIONS: process.env.S3PQ_NODE_OPTIONS } : {} });
}

describe('outage longer than memory', () => {
  it('keeps answering 200 through an outage of 3x the memory limit, within the memory bound, and drains exactly once', async () => {
    const config = await writeConfig('spill', 'lake-spill');
    const serving = await serve(config);
    const pid = serving.child.pid!;
    const baseline = await rssMb(pid);
    const rss = sampleRss(pid);
    const clients = new Clients(() => serving.ports.http!);
    try {
      await clients.sendBytes('before', 1024 * 1024);
      server.pause();
      await clients.sendBytes('outage', 3 * LIMIT_MB * 1024 * 1024);
      server.resume();
      // The backlog drains while new traffic is accepted.
      await clients.sendBytes('after', 2 * 1024 * 1024);
    } finally {
      server.resume();
      rss.stop();
      serving.child.kill('SIGTERM');
    }
    expect(await serving.exited).toBe(0);
    const peak = rss.peak();
    console.log(`outage-spill: ${clients.acked.length} requests (${(clients.sentBytes / 1048576).toFixed(0)} MiB) acknowledged, ${clients.refusals} refusals retried; RSS ${baseline.toFixed(0)} MiB idle, ${peak.toFixed(0)} MiB peak (limit ${LIMIT_MB} + ${MARGIN_MB})`);
    expect(clients.givenUp).toBe(0);
    expect(clients.sentBytes).toBeGreaterThan(3 * LIMIT_MB * 1024 * 1024);
    // Issue 20's bound (limit + 150 MiB), the same on every Node version since flush chunks are
    // capped (a quarter of the limit then, an eighth now; measured 2026-11-29: growth 100 MiB on Node 20, 150 on
    // Node 24 — 177 before the cap — whose larger young generation accounts for the difference:
    // 94 with --max-semi-space-size=8; docs/durability.md).
    const bound = LIMIT_MB + MARGIN_MB;
    expect(peak - baseline).toBeLessThan(bound);
    const counts = await countsIn('lake-spill', join(work, 'download-spill'));
    expect(clients.acked.filter((name) => counts.get(name) !== SPANS)).toEqual([]);
    expect(counts.size).toBe(clients.acked.length);
  }, 240_000);

  it('stores every acknowledged span exactly once after a kill -9 in the middle of the outage', async () => {
    const config = await writeConfig('spill-kill', 'lake-spill-kill');
    let serving = await serve(config);
    let current = serving;
    const clients = new Clients(() => current.ports.http!);
    try {
      await clients.sendBytes('before', 1024 * 1024);
      server.pause();
      await clients.sendBytes('outage', 2 * LIMIT_MB * 1024 * 1024);
      serving.child.kill('SIGKILL');
      await serving.exited;
      server.resume();
      serving = await serve(config);
      current = serving;
      // The replayed backlog drains while new traffic is accepted.
      await clients.sendBytes('after', 2 * 1024 * 1024);
    } finally {
      server.resume();
      serving.child.kill('SIGTERM');
    }
    expect(await serving.exited).toBe(0);
    expect(clients.givenUp).toBe(0);
    const counts = await countsIn('lake-spill-kill', join(work, 'download-spill-kill'));
    expect(clients.acked.filter((name) => counts.get(name) !== SPANS)).toEqual([]);
    expect(counts.size).toBe(clients.acked.length);
  }, 240_000);
});
