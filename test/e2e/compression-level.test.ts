/**
 * `[parquet] compression_level` end to end: a daemon receiving OTLP/HTTP stores, with the level
 * (on an encode worker and on the event loop), the rows and footers a default daemon stores,
 * in column chunks of the configured codec.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { DERIVED_END_TIME, duckdbQuery } from '../helpers/duckdb.js';
import { parquetFiles } from '../helpers/files.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const daemons: TestDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.cleanup();
});

const requests = Array.from({ length: 4 }, (_, r) =>
  jsonTraceRequest(
    Array.from({ length: 50 }, (_, i) =>
      jsonSpan({
        traceId: hexId(16, 1 + ((r * 50 + i) % 17)),
        name: `op-${i % 7}`,
        startNs: T0_NS + BigInt(r * 1000 + i),
        attributes: [{ key: 'http.route', value: { stringValue: `/r/${i % 5}` } }, { key: 'n', value: { intValue: r * 50 + i } }],
      }),
    ),
  ),
);

async function stored(parquet: string): Promise<{ rows: Record<string, unknown>[]; meta: Record<string, unknown>[]; codecs: unknown[] }> {
  const d = await startTestDaemon(`[parquet]\n${parquet}\n[buffer]\nmax_rows = 80\nmax_age_seconds = 3600`);
  daemons.push(d);
  for (const body of requests) {
    const res = await fetch(d.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
  }
  await d.stop();
  const files = (await parquetFiles(d.dir)).sort();
  expect(files.length).toBeGreaterThanOrEqual(3);
  const rows: Record<string, unknown>[] = [];
  const meta: Record<string, unknown>[] = [];
  const codecs = new Set<unknown>();
  for (const f of files) {
    const path = `${d.dir}/${f}`;
    rows.push(...(await duckdbQuery(`SELECT trace_id, span_id, name, start_time::VARCHAR AS start, ${DERIVED_END_TIME}::VARCHAR AS e, attributes::VARCHAR AS attrs FROM read_parquet('${path}')`)));
    meta.push(...(await duckdbQuery(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}') WHERE decode(key) LIKE 's3parquet.%' AND decode(key) NOT LIKE '%event_time%' ORDER BY k`)));
    for (const r of await duckdbQuery(`SELECT DISTINCT compression AS c FROM parquet_metadata('${path}')`)) codecs.add(r.c);
  }
  return { rows, meta, codecs: [...codecs] };
}

describe('[parquet] compression_level, daemon', () => {
  it('stores what the default stores, at the configured codec, on a worker and on the event loop', async () => {
    const plain = await stored('encode_workers = 0');
    expect(plain.rows).toHaveLength(200);
    expect(plain.codecs).toEqual(['ZSTD']);
    const zstd = await stored('compression_level = 19\nencode_workers = 1');
    expect(zstd.codecs).toEqual(['ZSTD']);
    expect(zstd.rows).toEqual(plain.rows);
    expect(zstd.meta).toEqual(plain.meta);
    const gzip = await stored('compression = "GZIP"\ncompression_level = 9\nencode_workers = 0');
    expect(gzip.codecs).toEqual(['GZIP']);
    expect(gzip.rows).toEqual(plain.rows);
    expect(gzip.meta).toEqual(plain.meta);
  }, 180_000);
});
