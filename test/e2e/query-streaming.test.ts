/**
 * NDJSON results stream with the socket's backpressure: a result far larger than the memory
 * budget of this test passes through a slow reader while the daemon's resident memory (a
 * separate process, sampled from /proc) stays flat.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServingProcess } from '../helpers/cli.js';
import { T0_NS, hexId } from '../helpers/otlp.js';
import { rssMb } from '../../bench/harness/proc.js';

const ROWS = 24_000;
const PAYLOAD = 'x'.repeat(2000);
/**
 * RSS in a garbage-collected process also holds garbage not yet collected, so the test
 * calibrates itself: the same result answered as one JSON document (buffered) must cost the
 * daemon at least twice the memory growth of the NDJSON stream.
 */

describe('NDJSON streaming', () => {
  let dir: string;
  let serving: ServingProcess;
  let queryPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-stream-'));
    const config = join(dir, 'stream.toml');
    await writeFile(
      config,
      `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\nmax_json_response_mb = 128\n[storage]\nlocal_path = "${dir}/data"\n[buffer]\nmax_rows = 4000\nmax_age_seconds = 0.5\n[parquet]\nrow_group_size = 500\n[wal]\nfsync = "never"\n[partitioning]\nmax_past_hours = 0\n`,
    );
    serving = await startServe(['--config', config]);
    const started = serving.lines.find((l) => l.msg === 'query port listening');
    queryPort = started!.port as number;
    for (let r = 0; r < ROWS / 2000; r++) {
      const spans = Array.from({ length: 2000 }, (_, i) => ({
        traceId: hexId(16, 1 + r * 2000 + i),
        spanId: hexId(8, 1 + r * 2000 + i),
        name: 'big',
        kind: 2,
        startTimeUnixNano: (T0_NS + BigInt(r * 2000 + i)).toString(),
        endTimeUnixNano: (T0_NS + BigInt(r * 2000 + i) + 5n).toString(),
        attributes: [{ key: 'payload', value: { stringValue: `${PAYLOAD}${i}` } }],
      }));
      const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });
      expect((await fetch(`http://127.0.0.1:${serving.ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
    }
    // Wait until everything is flushed (age 0.5 s) and the files are queryable.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${queryPort}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'traces', filter: "name = 'big'", select: ['span_id'] }) });
      const n = ((await res.json()) as { records: unknown[] }).records.length;
      if (n === ROWS || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);

  afterAll(async () => {
    serving?.child.kill('SIGTERM');
    await serving?.exited;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('streams a ~50 MB result to a slow reader with flat daemon memory', async () => {
    const pid = serving.child.pid!;
    // Queries run on a worker thread of the daemon: one whole run first, so the worker's own
    // start-up (its heap, footer cache, decoders) is not counted as the streamed answer's growth.
    const warm = await fetch(`http://127.0.0.1:${queryPort}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataset: 'traces', format: 'ndjson', select: ['span_id', 'attributes'] }),
    });
    for await (const chunk of warm.body as unknown as AsyncIterable<Uint8Array>) void chunk;
    const before = await rssMb(pid);
    let peak = before;
    const res = await fetch(`http://127.0.0.1:${queryPort}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataset: 'traces', format: 'ndjson', select: ['span_id', 'attributes'] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    let bytes = 0;
    let lines = 0;
    let chunks = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines++;
      if (++chunks % 20 === 0) {
        peak = Math.max(peak, await rssMb(pid));
        // A slow reader: the daemon must wait for us rather than buffer the rest.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    expect(lines).toBe(ROWS);
    expect(bytes).toBeGreaterThan(45 * 1024 * 1024);
    const streamedGrowth = peak - before;

    // The same result buffered into one JSON answer, measured the same way, afterwards.
    const before2 = await rssMb(pid);
    let peak2 = before2;
    const sampler = setInterval(() => void rssMb(pid).then((v) => (peak2 = Math.max(peak2, v)), () => undefined), 20);
    const buffered = await fetch(`http://127.0.0.1:${queryPort}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataset: 'traces', select: ['span_id', 'attributes'] }),
    });
    expect(((await buffered.json()) as { records: unknown[] }).records).toHaveLength(ROWS);
    clearInterval(sampler);
    const bufferedGrowth = peak2 - before2;
    console.log(
      `streamed ${(bytes / 1048576).toFixed(1)} MiB: daemon RSS grew ${streamedGrowth.toFixed(0)} MiB streaming, ${bufferedGrowth.toFixed(0)} MiB buffered`,
    );
    // Garbage not yet collected can add tens of MiB either way; the buffered answer, holding
    // every record and the whole document at once, grows by several times the result.
    expect(streamedGrowth).toBeLessThan((1.5 * bytes) / 1048576);
    expect(streamedGrowth * 2).toBeLessThan(bufferedGrowth);
  });
});
