/** With bloom_filter_enabled, trace lookups skip files whose footer bloom filter rules the id out. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { T0_NS, hexId } from '../helpers/otlp.js';

describe('trace lookup with bloom filters', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    // The footer filters alone: with the trace index on, the write log rules the files out first.
    d = await startTestDaemon('[parquet]\nbloom_filter_enabled = true\n[buffer]\nmax_rows = 50\nmax_age_seconds = 3600\n[write_log]\ntrace_index = false');
    // Interleaved ids: every file's [min, max] trace id range covers ids of other files.
    for (let f = 0; f < 6; f++) {
      const spans = Array.from({ length: 50 }, (_, i) => ({
        traceId: hexId(16, 1 + i * 6 + f),
        spanId: hexId(8, 1 + f * 50 + i),
        name: `f${f}`,
        kind: 1,
        startTimeUnixNano: (T0_NS + BigInt(i)).toString(),
        endTimeUnixNano: (T0_NS + BigInt(i) + 1n).toString(),
      }));
      const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
      expect((await fetch(d.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
      await d.pipeline.flush();
    }
  });
  afterAll(async () => {
    await d?.cleanup();
  });

  it('prunes files by bloom and still finds the trace', async () => {
    const target = hexId(16, 1 + 20 * 6 + 4); // written in file 4 only
    const body = (await (await fetch(d.queryUrl(`/api/v1/traces/${target}`))).json()) as { spans: { name: string }[]; stats: Record<string, number> };
    expect(body.spans.map((s) => s.name)).toEqual(['f4']);
    expect(body.stats.files_considered).toBe(6);
    expect(body.stats.files_pruned_by_bloom).toBeGreaterThanOrEqual(4);
  });
});
