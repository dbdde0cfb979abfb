/**
 * Overload: many clients push more than the memory limit can hold. Beyond the memory budget
 * buffered records spill (they live only in the write-ahead log), so the daemon keeps
 * answering 200 until the log is full (`[wal] max_size_mb`, small here); then it answers
 * retryably (503 + Retry-After). Its resident memory stays within the limit plus a margin,
 * and everything it acknowledged is stored.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '../helpers/cli.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { T0_NS, hexId } from '../helpers/otlp.js';
import { rssMb } from '../../bench/harness/proc.js';

const LIMIT_MB = 24;
/**
 * On top of the limit: V8 heap headroom before a collection, wasm memory for Parquet encoding
 * (it never shrinks), request bodies being read, and garbage not yet collected. Measured here
 * at ~150-200 MiB; bench/ tracks it against the 150 MiB target.
 */
const MARGIN_MB = 220;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-overload-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


describe('overload', () => {
  it('answers retryably at the memory limit, stays within it, and stores all it acknowledged', async () => {
    const config = join(dir, 'overload.toml');
    const data = join(dir, 'data');
    // Flushes are slow to trigger (big rows/bytes limits, long age) so buffers fill up.
    await writeFile(
      config,
      `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nenabled = false\n[telemetry]\nenabled = false\n[storage]\nlocal_path = "${data}"\n[buffer]\nmax_rows = 1000000\nmax_bytes_mb = 8\nmax_age_seconds = 2\nmemory_limit_mb = ${LIMIT_MB}\n[wal]\nfsync = "never"\nmax_size_mb = 4\n[partitioning]\nmax_past_hours = 0\n`,
    );
    const serving = await startServe(['--config', config], { env: process.env.S3PQ_NODE_OPTIONS ? { NODE_OPTIONS: process.env.S3PQ_NODE_OPTIONS } : {} });
    const pid = serving.child.pid!;
    const baseline = await rssMb(pid);
    let peak = baseline;
    const sampler = setInterval(() => void rssMb(pid).then((v) => (peak = Math.max(peak, v)), () => undefined), 50);
    const acked = new Set<string>();
    let retryable = 0;
    let retryAfterSeen = false;
    const payload = 'p'.repeat(1500);
    const deadline = Date.now() + 6000;
    await Promise.all(
      Array.from({ length: 12 }, async (_, c) => {
        for (let n = 0; Date.now() < deadline; n++) {
          const spans = Array.from({ length: 400 }, (_, i) => ({
            traceId: hexId(16, 1 + c * 10_000_000 + n * 1000 + i),
            spanId: hexId(8, 1 + i),
            name: `c${c}-r${n}`,
            kind: 2,
            startTimeUnixNano: (T0_NS + BigInt(i)).toString(),
            endTimeUnixNano: (T0_NS + BigInt(i) + 1n).toString(),
            attributes: [{ key: 'payload', value: { stringValue: payload } }],
          }));
          const res = await fetch(`http://127.0.0.1:${serving.ports.http}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }),
          });
          await res.arrayBuffer();
          if (res.status === 200) acked.add(`c${c}-r${n}`);
          else if (res.status === 503 || res.status === 429) {
            retryable++;
            retryAfterSeen ||= res.headers.get('retry-after') !== null;
            await new Promise((r) => setTimeout(r, 100));
          } else throw new Error(`unexpected status ${res.status}`);
        }
      }),
    );
    clearInterval(sampler);
    serving.child.kill('SIGTERM');
    expect(await serving.exited).toBe(0);
    console.log(`overload: ${acked.size} acknowledged, ${retryable} retryable refusals; RSS ${baseline.toFixed(0)} MiB idle, ${peak.toFixed(0)} MiB peak (limit ${LIMIT_MB} + margin ${MARGIN_MB})`);
    expect(retryable).toBeGreaterThan(0);
    expect(retryAfterSeen).toBe(true);
    expect(peak).toBeLessThan(baseline + LIMIT_MB + MARGIN_MB);
    const rows = await duckdbQuery(`SELECT name, count(*)::INT AS n FROM read_parquet('${data}/traces/**/*.parquet') GROUP BY name`);
    const counts = new Map(rows.map((r) => [r.name as string, r.n as number]));
    expect([...acked].filter((name) => counts.get(name) !== 400)).toEqual([]);
  });
});
