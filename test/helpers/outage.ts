/**
 * What the outage tests (issue 20) share: a daemon config with a small memory limit against
 * radosgw, spans with a payload large enough that a few requests outgrow it, clients that
 * retry refusals as SDKs do, RSS sampling from /proc, and exact-once counting with DuckDB over
 * the downloaded objects.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect } from 'vitest';
import { rssMb } from '../../bench/harness/proc.js';
import { duckdbQuery } from './duckdb.js';
import { T0_NS, hexId } from './otlp.js';
import { downloadAll } from './s3-files.js';
import { s3ClientConfig, s3DaemonToml, startS3Server, type S3Server } from './s3-server.js';

export const OUTAGE_LIMIT_MB = 16;
/** The issue's bound: resident memory within the limit plus 150 MiB (over the idle daemon). */
export const OUTAGE_MARGIN_MB = 150;
const SPANS = 400;
const PAYLOAD = 'p'.repeat(1500);

export { rssMb };

/** Samples a process's RSS every 50 ms and keeps the peak. */
export function sampleRss(pid: number): { peak: () => number; stop: () => void } {
  let peak = 0;
  const timer = setInterval(() => void rssMb(pid).then((v) => (peak = Math.max(peak, v)), () => undefined), 50);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

/** A daemon config for `bucket` with a `OUTAGE_LIMIT_MB` memory limit and its own log dir under `work`. */
export async function writeOutageConfig(work: string, server: S3Server, name: string, bucket: string): Promise<string> {
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
memory_limit_mb = ${OUTAGE_LIMIT_MB}
[wal]
dir = "${join(work, `${name}-wal`)}"
fsync = "never"
[partitioning]
max_past_hours = 0
`,
  );
  return path;
}

/** One OTLP/JSON request of 400 spans named `name` (the request's label), trace ids unique per seed. */
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
export class RetryingClients {
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

/** Rows per request name in the bucket's traces, after checking no trace id is stored twice. */
export async function spansPerRequest(server: S3Server, bucket: string, dir: string): Promise<Map<string, number>> {
  const client = new S3Client(s3ClientConfig(server));
  await downloadAll(client, bucket, 'traces/', dir);
  client.destroy();
  const rows = await duckdbQuery(`SELECT name, count(*)::INT AS n, count(DISTINCT trace_id)::INT AS ids FROM read_parquet('${dir}/traces/**/*.parquet') GROUP BY name`);
  for (const r of rows) expect(r.ids).toBe(r.n);
  return new Map(rows.map((r) => [r.name as string, r.n as number]));
}

export const SPANS_PER_REQUEST = SPANS;

/**
 * Registers the file's radosgw and work directory (started before its tests, stopped after) and
 * returns what the tests use of them.
 */
export function outageFixture(prefix: string): {
  server: () => S3Server;
  work: () => string;
  writeConfig: (name: string, bucket: string) => Promise<string>;
  countsIn: (bucket: string, dir: string) => Promise<Map<string, number>>;
} {
  let server: S3Server | undefined;
  let work: string | undefined;
  beforeAll(async () => {
    server = await startS3Server();
    work = await mkdtemp(join(tmpdir(), prefix));
  }, 300_000);
  afterAll(async () => {
    server?.resume();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });
  return {
    server: () => server!,
    work: () => work!,
    writeConfig: (name, bucket) => writeOutageConfig(work!, server!, name, bucket),
    countsIn: (bucket, dir) => spansPerRequest(server!, bucket, dir),
  };
}

/**
 * The RSS growth (over the idle daemon) the outage tests assert: issue 20's bound, the limit
 * plus 150 MiB, on every Node version (docs/durability.md has what each measured).
 */
export const OUTAGE_BOUND_MB = OUTAGE_LIMIT_MB + OUTAGE_MARGIN_MB;
