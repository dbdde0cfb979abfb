/**
 * `[[partitioning.keys]]` in the daemon: hash and range levels after the time levels, placed by
 * the documented hash (DuckDB recomputes it from the trace_id column), limited to the datasets
 * named; the query port still prunes by time, and the DDL's DuckDB views see the key columns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText, ConfigError } from '../../src/config/index.js';
import { generateDdl } from '../../src/ddl/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { hexId, jsonSpan, jsonTraceRequest, T0_NS } from '../helpers/otlp.js';

// One line: the test helper merges TOML line by line.
const KEYS = `
[partitioning]
keys = [{ type = "hash", field = "trace_id", num_partitions = 4, datasets = ["traces", "logs"] }, { type = "range", field = "duration_ns", name = "latency", datasets = ["traces"], default_label = "slowest", ranges = [{ from = 0, to = 1e6, label = "fast" }, { from = 1e6, to = 1e9, label = "slow" }] }]
`;

describe('partition keys in the daemon', () => {
  let d: TestDaemon;
  const spans = Array.from({ length: 400 }, (_, i) => {
    const s = jsonSpan({ traceId: hexId(16, 1000 + i), startNs: T0_NS + BigInt(i % 2) * 3_600_000_000_000n });
    const duration = [500n, 2_000_000n, 5_000_000_000n][i % 3]!;
    return { ...s, endTimeUnixNano: (BigInt(s.startTimeUnixNano as string) + duration).toString() };
  });

  beforeAll(async () => {
    d = await startTestDaemon(KEYS);
    const res = await fetch(d.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(jsonTraceRequest(spans)) });
    expect(res.status).toBe(200);
    await d.pipeline.flush();
  });

  afterAll(async () => {
    await d?.cleanup();
  });

  it('places every span by the documented hash of its trace_id and the range of its duration', async () => {
    const rows = await duckdbQuery(`
      SELECT count(*) AS n,
        sum((trace_id_bucket = CAST('0x' || substr(md5(trace_id), 1, 8) AS UBIGINT) % 4)::INT) AS hashed,
        sum((latency = CASE WHEN duration_ns < 1000000 THEN 'fast' WHEN duration_ns < 1000000000 THEN 'slow' ELSE 'slowest' END)::INT) AS ranged,
        count(DISTINCT hour) AS hours
      FROM read_parquet('${d.dir}/data/traces/*/*/*/*/*.parquet', hive_partitioning = true, hive_types = {'trace_id_bucket': UBIGINT, 'latency': VARCHAR})`);
    expect(rows).toEqual([{ n: '400', hashed: '400', ranged: '400', hours: '2' }]);
  });

  it('the query port still prunes by time with key levels after the time levels', async () => {
    const hour1 = Number(T0_NS / 1_000_000n) + 3_600_000 - 300_000;
    const body_ = { dataset: 'traces', start: new Date(hour1).toISOString(), end: new Date(hour1 + 3_600_000).toISOString(), select: ['trace_id'] };
    const res = await fetch(d.queryUrl('/api/v1/query'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body_) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { records: unknown[]; stats: { partitions_pruned: number; partitions_considered: number } };
    expect(body.records).toHaveLength(200);
    expect(body.stats.partitions_pruned).toBeGreaterThan(0);
  });

  it('the DuckDB DDL declares the key columns for the datasets they apply to', async () => {
    const ddl = generateDdl(d.config, { engine: 'duckdb' });
    // Each view's whole statement (the traces view spans lines: it derives end_time, docs/datasets.md).
    const view = (dataset: string): string => ddl.match(new RegExp(`CREATE OR REPLACE VIEW "${dataset}" [^;]*;`))?.[0] ?? '';
    expect(view('traces')).toMatch(/read_parquet\(.*'trace_id_bucket': INTEGER, 'latency': VARCHAR/);
    expect(view('logs')).toMatch(/read_parquet\(.*'trace_id_bucket': INTEGER/);
    expect(view('metrics')).toMatch(/read_parquet\(/);
    expect(view('metrics')).not.toMatch(/trace_id_bucket/);
    const athena = generateDdl(parseConfigText(`${KEYS}\n[s3]\nbucket = "lake"\n`), { engine: 'athena', dataset: 'traces' });
    expect(athena).toContain("'projection.trace_id_bucket.range' = '0,3'");
    expect(athena).toContain("'projection.latency.values' = 'fast,slow,slowest'");
    expect(athena).toContain('/trace_id_bucket=${trace_id_bucket}/latency=${latency}/');
  });
});

it('refuses keys on fields a dataset does not have, and malformed ranges, naming the key', () => {
  const problems = (toml: string): string => {
    try {
      parseConfigText(toml);
      return '';
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
  };
  expect(problems('[partitioning]\nkeys = [{ type = "hash", field = "trace_id", num_partitions = 4 }]')).toMatch(
    /partitioning\.keys\[0\]\.field: metrics records have no field "trace_id"/,
  );
  expect(problems('[partitioning]\nkeys = [{ type = "hash", field = "service_name" }]')).toMatch(/partitioning\.keys\[0\]\.num_partitions: a hash key needs num_partitions/);
  expect(problems('[partitioning]\nkeys = [{ type = "range", field = "duration_ns", datasets = ["traces"], ranges = [{ from = 0, to = 10, label = "a" }, { from = 5, to = 20, label = "b" }] }]')).toMatch(
    /ranges "a" and "b" overlap/,
  );
  expect(problems('[partitioning]\nkeys = [{ type = "hash", field = "service_name", num_partitions = 2, name = "a/b" }]')).toMatch(/keys\[0\]\.name/);
});
