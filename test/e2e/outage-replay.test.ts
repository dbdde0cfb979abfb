/**
 * Issue 20, after the outage: a restart on a write-ahead log many times `memory_limit_mb`
 * replays it within the memory bound (entries are read back one at a time and spill like live
 * requests), and a kill -9 in the middle of the drain loses and duplicates nothing.
 *
 * The failure is real: the radosgw process is stopped (SIGSTOP) while four clients send, so
 * flushes time out and the backlog piles up in the log. DuckDB counts every span over the
 * downloaded objects.
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
  work = await mkdtemp(join(tmpdir(), 's3pq-outage-replay-'));
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
      await new Promise((r) => setTimeout(r, 100));
    }
    this.givenUp++;
  }

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

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const flushedRows = (serving: ServingProcess): number => serving.lines.reduce((n, l) => n + (l.msg === 'flushed' ? (l.rows as number) : 0), 0);

describe('after an outage longer than memory', () => {
  it('replays a log of 5x the memory limit after a kill -9 within the memory bound, every span stored once', async () => {
    const config = await writeConfig('replay', 'lake-replay');
    let serving = await startServe(['--config', config]);
    const baseline = await rssMb(serving.child.pid!);
    let current = serving;
    const clients = new Clients(() => current.ports.http!);
    let rss: { peak: () => number; stop: () => void } | undefined;
    try {
      server.pause();
      await clients.sendBytes('outage', 5 * LIMIT_MB * 1024 * 1024);
      serving.child.kill('SIGKILL');
      await serving.exited;
      server.resume();
      // Sampled from the restarted process's first moment: the replay runs before it reports started.
      serving = await startServe(['--config', config], { onSpawn: (child) => (rss = sampleRss(child.pid!)) });
      current = serving;
      const replayed = serving.lines.find((l) => l.msg === 'write-ahead log replayed');
      expect(replayed?.requests).toBeGreaterThanOrEqual(clients.acked.length * 0.9);
      // The backlog drains (new traffic keeps being accepted meanwhile).
      await clients.sendBytes('after', 1024 * 1024);
      await until('the backlog to drain', () => flushedRows(serving) >= clients.acked.length * SPANS * 0.9, 180_000);
    } finally {
      server.resume();
      serving.child.kill('SIGTERM');
    }
    expect(await serving.exited).toBe(0);
    rss!.stop();
    const peak = rss!.peak();
    console.log(`outage-replay: ${clients.acked.length} requests (${(clients.sentBytes / 1048576).toFixed(0)} MiB) acknowledged; restart RSS peak ${peak.toFixed(0)} MiB over an idle ${baseline.toFixed(0)} MiB (limit ${LIMIT_MB} + ${MARGIN_MB})`);
    expect(clients.givenUp).toBe(0);
    expect(peak - baseline).toBeLessThan(LIMIT_MB + MARGIN_MB);
    const counts = await countsIn('lake-replay', join(work, 'download-replay'));
    expect(clients.acked.filter((name) => counts.get(name) !== SPANS)).toEqual([]);
    expect(counts.size).toBe(clients.acked.length);
  }, 300_000);

  it('stores every acknowledged span exactly once after a kill -9 in the middle of the drain', async () => {
    const config = await writeConfig('drain-kill', 'lake-drain-kill');
    let serving = await startServe(['--config', config]);
    let current = serving;
    const clients = new Clients(() => current.ports.http!);
    try {
      server.pause();
      await clients.sendBytes('outage', 2 * LIMIT_MB * 1024 * 1024);
      const before = flushedRows(serving);
      server.resume();
      // In the middle of the drain: some of the backlog is stored, most is not.
      const backlog = clients.acked.length * SPANS;
      await until('the drain to start', () => flushedRows(serving) - before >= 2 * SPANS, 120_000);
      const drained = flushedRows(serving) - before;
      serving.child.kill('SIGKILL');
      await serving.exited;
      expect(drained).toBeLessThan(backlog);
      serving = await startServe(['--config', config]);
      current = serving;
      await clients.sendBytes('after', 1024 * 1024);
    } finally {
      server.resume();
      serving.child.kill('SIGTERM');
    }
    expect(await serving.exited).toBe(0);
    expect(clients.givenUp).toBe(0);
    const counts = await countsIn('lake-drain-kill', join(work, 'download-drain-kill'));
    expect(clients.acked.filter((name) => counts.get(name) !== SPANS)).toEqual([]);
    expect(counts.size).toBe(clients.acked.length);
  }, 300_000);
});
