/**
 * Issue 21 item 5: concurrent gzip bodies are admitted by what they inflate to, while they
 * inflate. Twenty 64 KB bodies that each inflate to 63 MiB used to be inflated all at once
 * (RSS ~1.8 GB with a 128 MiB limit); now what inflates at once stays near the limit and the
 * rest is refused retryably.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const MIB = 1024 * 1024;

describe('gzip admission', () => {
  let d: TestDaemon;
  // A valid (empty) OTLP/JSON request padded with 63 MiB of whitespace: ~64 KB gzipped.
  const inflated = Buffer.concat([Buffer.from('{"resourceSpans":[]'), Buffer.alloc(63 * MIB, 0x20), Buffer.from('}')]);
  const body = gzipSync(inflated, { level: 9 });

  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmemory_limit_mb = 128');
  });
  afterAll(async () => {
    await d?.cleanup();
  });

  it('twenty concurrent 63 MiB gzip bodies stay within the memory bound; the excess is refused retryably', async () => {
    expect(body.length).toBeLessThan(256 * 1024);
    const send = async (): Promise<{ status: number; retryAfter: string | null }> => {
      const res = await fetch(d.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
      await res.arrayBuffer();
      return { status: res.status, retryAfter: res.headers.get('retry-after') };
    };
    // One alone is fine: a single body may always inflate up to the body limit.
    expect((await send()).status).toBe(200);

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 2);
    const results = await Promise.all(Array.from({ length: 20 }, send));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 503);
    expect(ok).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(ok + refused.length).toBe(20);
    for (const r of refused) expect(r.retryAfter).toBe('1');
    // Documented bound (docs/security.md): memory_limit_mb of inflating bodies plus the one
    // request being decoded (its body, its text and its parse: ~3 × 63 MiB). Unbounded, twenty
    // inflated bodies alone are 1.26 GB.
    const growthMiB = (peak - baseline) / MIB;
    console.log(`gzip: ${ok} ok, ${refused.length} refused, RSS growth ${growthMiB.toFixed(0)} MiB`);
    expect(growthMiB).toBeLessThan(128 + 3 * 64 + 150);
  }, 120_000);
});
