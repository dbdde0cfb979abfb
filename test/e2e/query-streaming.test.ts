/**
 * NDJSON results stream with the socket's backpressure: a result far larger than the memory
 * budget of this test passes through while the process's heap stays flat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { T0_NS, hexId } from '../helpers/otlp.js';

const ROWS = 24_000;
const PAYLOAD = 'x'.repeat(2000);

describe('NDJSON streaming', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmax_rows = 4000\nmax_age_seconds = 3600\n[parquet]\nrow_group_size = 500');
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
      expect((await fetch(d.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
    }
    await d.pipeline.flush();
  }, 120_000);
  afterAll(async () => {
    await d?.cleanup();
  });

  it('streams a ~50 MB result with flat memory', async () => {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const res = await fetch(d.queryUrl('/api/v1/query'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataset: 'traces', format: 'ndjson', select: ['span_id', 'attributes'] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    let bytes = 0;
    let lines = 0;
    let partial = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      const text = partial + decoder.decode(chunk, { stream: true });
      const parts = text.split('\n');
      partial = parts.pop()!;
      lines += parts.length;
      if (lines % 2000 < 50) peak = Math.max(peak, process.memoryUsage().heapUsed);
      // A slow reader: the server must wait for us rather than buffer the rest.
      if (lines % 4000 < 20) await new Promise((r) => setTimeout(r, 5));
    }
    expect(lines).toBe(ROWS);
    expect(bytes).toBeGreaterThan(45 * 1024 * 1024);
    // The budget: far below the size of the result; a buffered answer would exceed it.
    expect(peak - before).toBeLessThan(bytes / 2);
    console.log(`streamed ${(bytes / 1048576).toFixed(1)} MiB; heap grew at most ${((peak - before) / 1048576).toFixed(1)} MiB`);
  });
});
