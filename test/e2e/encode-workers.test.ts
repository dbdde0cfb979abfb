/**
 * A daemon with an encode worker (`[parquet] encode_workers = 1`)
 * stores what a daemon encoding on its event loop stores: the same requests, flushed as several
 * files, read back by DuckDB as the same rows in the same order, with the same footers; and the
 * worker stops with the daemon.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { parquetFiles } from '../helpers/files.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const daemons: TestDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.cleanup();
});

const requests = Array.from({ length: 6 }, (_, r) =>
  jsonTraceRequest(
    Array.from({ length: 40 }, (_, i) =>
      jsonSpan({
        traceId: hexId(16, 1 + ((r * 40 + i) % 23)),
        name: `op-${i % 7}`,
        startNs: T0_NS + BigInt(r * 1000 + i),
        attributes: [{ key: 'http.route', value: { stringValue: `/r/${i % 5}` } }, { key: 'n', value: { intValue: r * 40 + i } }],
      }),
    ),
  ),
);

async function stored(workers: number): Promise<{ rows: Record<string, unknown>[]; meta: Record<string, unknown>[]; files: number; sorted: boolean }> {
  // max_rows = 100: 240 spans become files of 100, 100 and 40 rows.
  const d = await startTestDaemon(`[parquet]\nencode_workers = ${workers}\n[buffer]\nmax_rows = 100\nmax_age_seconds = 3600`);
  daemons.push(d);
  for (const body of requests) {
    const res = await fetch(d.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
  }
  await d.stop(); // the last flush runs at shutdown, then the worker stops
  const files = (await parquetFiles(d.dir)).sort();
  const rows: Record<string, unknown>[] = [];
  const meta: Record<string, unknown>[] = [];
  let sorted = true;
  for (const f of files) {
    const ids = (await duckdbQuery(`SELECT trace_id FROM read_parquet('${d.dir}/${f}')`)).map((r) => r.trace_id as string);
    sorted &&= ids.every((id, i) => i === 0 || ids[i - 1]! <= id);
    rows.push(...(await duckdbQuery(`SELECT trace_id, span_id, name, start_time::VARCHAR AS start, attributes::VARCHAR AS attrs FROM read_parquet('${d.dir}/${f}')`)));
    meta.push(...(await duckdbQuery(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${d.dir}/${f}') WHERE decode(key) LIKE 's3parquet.%' ORDER BY k`)));
  }
  return { rows, meta, files: files.length, sorted };
}

describe('encode workers', () => {
  it('store the same rows, in the same files and order, as encoding on the event loop', async () => {
    const inThread = await stored(0);
    const onWorker = await stored(1);
    expect(inThread.rows).toHaveLength(240);
    expect(onWorker.files).toBe(inThread.files);
    expect(onWorker.files).toBeGreaterThanOrEqual(3);
    expect(onWorker.rows).toEqual(inThread.rows);
    expect(onWorker.meta).toEqual(inThread.meta);
    // Within each file, rows are in trace_id order (the flush sort ran on the worker).
    expect(onWorker.sorted).toBe(true);
  }, 180_000);
});
