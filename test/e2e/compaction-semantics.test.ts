/**
 * What a compacted partition holds and what the daemon reports (issue 15, "Semantics"): rows
 * re-sorted by trace id, the trace index and bloom filter rebuilt; late records that land in a
 * compacted partition are compacted again; the compaction metrics count it, /readyz unaffected.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceRequests } from '../../bench/load/traces.js';
import { WriteLog } from '../../src/log/write-log.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { waitFor } from '../helpers/wait.js';

const HOUR_MS = Date.UTC(2024, 2, 3, 4);
const PARTITION = 'traces/date=2024-03-03/hour=04/';

describe('compaction semantics (in-process daemon, background compactor)', () => {
  let d: TestDaemon;
  let sent = 0;

  async function sendFile(seed: number, spans: number): Promise<void> {
    for (const body of traceRequests(seed, 1, spans, HOUR_MS)) {
      const res = await fetch(d.httpUrl('/v1/traces'), { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      sent += spans;
    }
    await d.pipeline.flush();
  }

  async function partitionFiles(): Promise<{ key: string; rows: number; index?: unknown }[]> {
    const v = await new WriteLog({ store: d.store, instanceId: 'check' }).view('traces');
    if (!v.complete) throw new Error(v.reason);
    return v.files.filter((f) => f.key.startsWith(PARTITION));
  }

  beforeAll(async () => {
    d = await startTestDaemon(`
[compaction]
enabled = true
interval_seconds = 1
min_partition_age_seconds = 0
delete_grace_seconds = 0
lease_seconds = 5
[write_log]
settle_window_seconds = 1
[parquet]
bloom_filter_enabled = true
`);
  }, 120_000);
  afterAll(async () => {
    await d?.cleanup();
  });

  it('merges into one file sorted by trace id, with its trace index and bloom filter', async () => {
    for (const seed of [1, 2, 3]) await sendFile(seed, 300);
    const [merged] = await waitFor(async () => {
      const files = await partitionFiles();
      return files.length === 1 && files[0]!.rows === sent ? files : undefined;
    }, 120_000, 'the partition compacted into one file');
    expect(merged!.index).toBeDefined(); // the write log's trace index of the merged file
    const path = join(d.dir, 'data', merged!.key);
    const ids = await duckdbQuery(`select trace_id from read_parquet('${path}')`);
    const hex = ids.map((r) => String(r.trace_id));
    expect(hex).toHaveLength(sent);
    expect([...hex].sort()).toEqual(hex);
    // The footer's own bloom filter of trace ids (src/parquet/bloom.ts), rebuilt for the merged rows.
    const kv = await duckdbQuery(`select decode(key) as k from parquet_kv_metadata('${path}')`);
    expect(kv.map((r) => String(r.k))).toContain('s3parquet.trace_id_bloom');
  }, 180_000);

  it('late records in a compacted partition are compacted again; metrics count both, /readyz stays ready', async () => {
    await sendFile(4, 200);
    await sendFile(5, 200);
    await waitFor(async () => {
      const files = await partitionFiles();
      return files.length === 1 && files[0]!.rows === sent;
    }, 120_000, 'the late files merged into the partition again');
    const res = await fetch(d.queryUrl('/api/v1/query'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'traces', select: ['span_id'], format: 'ndjson' }) });
    const lines = (await res.text()).split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(sent);
    expect(new Set(lines).size).toBe(sent);
    const metrics = await (await fetch(d.telemetryUrl('/metrics'))).text();
    // The compactor may have merged a partition of two files before the third landed: each merge
    // writes one file, and every file in is one of the five flushed or an earlier merge's output.
    const counter = (re: RegExp): number => Number(re.exec(metrics)?.[1] ?? NaN);
    const merges = counter(/s3parquet_compactions_total\{dataset="traces",outcome="merged"\} (\d+)/);
    expect(merges).toBeGreaterThanOrEqual(2);
    expect(counter(/s3parquet_compaction_files_total\{dataset="traces",direction="out"\} (\d+)/)).toBe(merges);
    expect(counter(/s3parquet_compaction_files_total\{dataset="traces",direction="in"\} (\d+)/)).toBe(5 + merges - 1);
    expect(counter(/s3parquet_compaction_duration_seconds_count\{dataset="traces"\} (\d+)/)).toBe(merges);
    expect(metrics).not.toMatch(/s3parquet_compactions_total\{dataset="traces",outcome="failed"\} [1-9]/);
    expect((await fetch(d.telemetryUrl('/readyz'))).status).toBe(200);
  }, 180_000);
});
