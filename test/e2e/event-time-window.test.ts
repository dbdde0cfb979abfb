/**
 * The event-time window (issue 22, item 7): a span at time 0, one in milliseconds instead of
 * nanoseconds and one far ahead are refused as a partial success by default; with
 * `outside_window = "receive_time"` they land in the receive time's partition, their own
 * timestamps kept. 2^64-1 is always refused: a nanosecond timestamp cannot hold it, and it is
 * never clamped silently. DuckDB reads back what was stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { duckdbQuery } from '../helpers/duckdb.js';
import { parquetFiles } from '../helpers/files.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const NOW_MS = Date.UTC(2026, 5, 15, 12, 30); // the daemon's clock: 2026-06-15T12:30Z
const NOW_NS = BigInt(NOW_MS) * 1_000_000n;
const CASES = {
  inside: NOW_NS - 3_600_000_000_000n, // an hour ago
  zero: 0n,
  millis: BigInt(NOW_MS), // milliseconds sent as nanoseconds: 1970-01-01T00:29
  ahead: NOW_NS + 2n * 3_600_000_000_000n, // two hours ahead
  max: 18446744073709551615n, // 2^64-1
};
const WINDOW = '[partitioning]\nmax_past_hours = 720\nmax_future_minutes = 60\n[buffer]\nmax_age_seconds = 3600\n';

let d: TestDaemon | undefined;
afterEach(async () => {
  await d?.cleanup();
  d = undefined;
});

async function send(daemon: TestDaemon): Promise<{ rejectedSpans?: string; errorMessage?: string } | undefined> {
  const spans = Object.entries(CASES).map(([name, startNs]) => ({ ...jsonSpan({ name }), startTimeUnixNano: startNs.toString(), endTimeUnixNano: startNs.toString() }));
  const res = await fetch(daemon.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(jsonTraceRequest(spans)) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } };
  await daemon.pipeline.flush();
  return body.partialSuccess;
}

describe('event-time window', () => {
  it('refuses records outside the window as a partial success, naming the time and the window', async () => {
    d = await startTestDaemon(WINDOW, { now: () => NOW_MS });
    const partial = await send(d);
    expect(Number(partial?.rejectedSpans)).toBe(4);
    expect(partial?.errorMessage).toMatch(/^span 1: startTimeUnixNano: time 1970-01-01T00:00:00\.000Z \(0 ns\) is more than 30 day\(s\) before it was received \(2026-06-15T12:30:00\.000Z\)/);
    const files = await parquetFiles(`${d.dir}/data/traces`);
    expect(files.map((f) => f.split('/').slice(0, 2).join('/'))).toEqual(['date=2026-06-15/hour=11']);
    const rows = await duckdbQuery(`SELECT name FROM read_parquet('${d.dir}/data/traces/**/*.parquet')`);
    expect(rows).toEqual([{ name: 'inside' }]);
  });

  it('places them by receive time when configured, keeping their own timestamps', async () => {
    d = await startTestDaemon(`${WINDOW}[partitioning]\noutside_window = "receive_time"\n`, { now: () => NOW_MS });
    const partial = await send(d);
    // 2^64-1 still cannot be stored exactly: refused, never clamped to 2262-04-11.
    expect(Number(partial?.rejectedSpans)).toBe(1);
    expect(partial?.errorMessage).toMatch(/startTimeUnixNano: .*beyond 2262-04-11/);
    const rows = await duckdbQuery(
      `SELECT name, epoch_ns(start_time)::VARCHAR AS start_ns, date::VARCHAR AS date, hour::INT AS hour FROM read_parquet('${d.dir}/data/traces/**/*.parquet', hive_partitioning = true) ORDER BY name`,
    );
    expect(rows).toEqual([
      { name: 'ahead', start_ns: CASES.ahead.toString(), date: '2026-06-15', hour: 12 },
      { name: 'inside', start_ns: CASES.inside.toString(), date: '2026-06-15', hour: 11 },
      { name: 'millis', start_ns: CASES.millis.toString(), date: '2026-06-15', hour: 12 },
      { name: 'zero', start_ns: '0', date: '2026-06-15', hour: 12 },
    ]);
  });

  it('0 turns the window off; 2^64-1 is refused even then', async () => {
    d = await startTestDaemon('[partitioning]\nmax_past_hours = 0\nmax_future_minutes = 0\n[buffer]\nmax_age_seconds = 3600\n', { now: () => NOW_MS });
    const partial = await send(d);
    expect(Number(partial?.rejectedSpans)).toBe(1);
    const rows = await duckdbQuery(`SELECT name, date::VARCHAR AS date FROM read_parquet('${d.dir}/data/traces/**/*.parquet', hive_partitioning = true) ORDER BY name`);
    expect(rows.map((r) => `${r.name as string}@${String(r.date)}`)).toEqual(['ahead@2026-06-15', 'inside@2026-06-15', 'millis@1970-01-01', 'zero@1970-01-01']);
  });
});
