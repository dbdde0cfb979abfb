/** Buffers flush on rows, bytes and age, and not before; files carry our footer metadata. */
import { TRACES_SCHEMA_VERSION } from '../../src/schema/traces.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { parquetFiles } from '../helpers/files.js';
import { T0_NS, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';
import { waitFor } from '../helpers/wait.js';

let d: TestDaemon | undefined;
afterEach(async () => {
  await d?.cleanup();
  d = undefined;
});

async function send(spans: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(d!.httpUrl('/v1/traces'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(jsonTraceRequest(spans)),
  });
  expect(res.status).toBe(200);
}

const spans = (n: number, extra: Partial<Parameters<typeof jsonSpan>[0]> = {}) => Array.from({ length: n }, (_, i) => jsonSpan({ name: `s${i}`, ...extra }));

describe('flush triggers', () => {
  it('holds records below every limit until a flush is asked for', async () => {
    d = await startTestDaemon('[buffer]\nmax_rows = 1000\nmax_age_seconds = 3600');
    await send(spans(3));
    expect(await parquetFiles(d.dir)).toEqual([]);
    expect(d.pipeline.bufferedRows).toBe(3);
    await d.pipeline.flush();
    expect(await parquetFiles(d.dir)).toHaveLength(1);
    expect(d.pipeline.bufferedRows).toBe(0);
  });

  it('flushes when a partition reaches max_rows, capping rows per file', async () => {
    d = await startTestDaemon('[buffer]\nmax_rows = 5\nmax_age_seconds = 3600');
    await send(spans(4));
    expect(await parquetFiles(d.dir)).toEqual([]);
    await send(spans(8));
    const files = await waitFor(async () => ((await parquetFiles(d!.dir)).length === 3 ? parquetFiles(d!.dir) : undefined), 10_000, 'three files');
    const counts = await duckdbQuery(
      `SELECT count(*)::INT AS n FROM read_parquet('${d.dir}/data/traces/**/*.parquet', filename = true) GROUP BY filename ORDER BY n DESC`,
    );
    expect(counts.map((r) => r.n)).toEqual([5, 5, 2]);
    expect(files.every((f) => f.startsWith('data/traces/date=2024-01-01/hour=00/'))).toBe(true);
  });

  it('flushes when a partition reaches max_bytes_mb', async () => {
    d = await startTestDaemon('[buffer]\nmax_rows = 100000\nmax_bytes_mb = 0.01\nmax_age_seconds = 3600');
    const big = [{ key: 'payload', value: { stringValue: 'x'.repeat(4000) } }];
    await send(spans(1, { attributes: big }));
    expect(await parquetFiles(d.dir)).toEqual([]);
    await send(spans(2, { attributes: big }));
    await waitFor(() => d!.pipeline.bufferedRows === 0, 10_000, 'the buffer to drain');
    expect(await parquetFiles(d.dir)).toHaveLength(1);
  });

  it('flushes a partition older than max_age_seconds', async () => {
    d = await startTestDaemon('[buffer]\nmax_rows = 100000\nmax_age_seconds = 0.2');
    await send(spans(2));
    // The log line comes after the file is in place, so waiting for it covers both.
    await waitFor(() => d!.logs.some((l) => l.msg === 'flushed' && l.reason === 'age' && l.rows === 2), 10_000, 'an aged flush');
    expect(await parquetFiles(d.dir)).toHaveLength(1);
  });

  it('writes footer metadata: dataset, schema version, event-time bounds, row count', async () => {
    d = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    await send([jsonSpan({ startNs: T0_NS + 5n }), jsonSpan({ startNs: T0_NS + 999n }), jsonSpan({ startNs: T0_NS + 7n })]);
    await d.pipeline.flush();
    const [file] = await parquetFiles(d.dir);
    const kv = await duckdbQuery(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${d.dir}/${file}')`);
    const meta = Object.fromEntries(kv.map((r) => [r.k, r.v]));
    expect(meta).toMatchObject({
      's3parquet.dataset': 'traces',
      's3parquet.schema_version': String(TRACES_SCHEMA_VERSION),
      's3parquet.min_event_time_ns': (T0_NS + 5n).toString(),
      's3parquet.max_event_time_ns': (T0_NS + 999n).toString(),
      's3parquet.row_count': '3',
    });
    expect(file).toMatch(/^data\/traces\/date=2024-01-01\/hour=00\/\d{8}T\d{6}Z-test-[0-9a-f]{6}-000000\.parquet$/);
  });

  it('applies the configured codec, row group size and partition format', async () => {
    d = await startTestDaemon(
      '[parquet]\ncompression = "snappy"\nrow_group_size = 2\n[partitioning]\ngranularity = "day"\nformat = "year=%Y/doy=%j"\nby_service = true\n[buffer]\nmax_age_seconds = 3600',
    );
    await send(spans(5));
    await d.pipeline.flush();
    const [file] = await parquetFiles(d.dir);
    expect(file).toMatch(/^data\/traces\/service_name=svc\/year=2024\/doy=001\//);
    const meta = await duckdbQuery(`SELECT DISTINCT row_group_id, compression FROM parquet_metadata('${d.dir}/${file}') ORDER BY row_group_id`);
    expect(meta.map((r) => r.row_group_id)).toEqual(['0', '1', '2']);
    expect(new Set(meta.map((r) => r.compression))).toEqual(new Set(['SNAPPY']));
  });
});
