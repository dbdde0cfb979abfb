/**
 * The query port over a corpus the daemon itself wrote (many services, hours and statuses):
 * results equal DuckDB's for the same WHERE clause, pruning shows in `stats`, trace lookups
 * read a small fraction of the bytes, and bad requests get precise 4xx answers.
 */
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilter, toSql } from '../../src/query/filter/index.js';
import { resourceColumnsInFilter } from '../../src/query/promoted-filter.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { parquetFiles } from '../helpers/files.js';
import { T0_NS, hexId } from '../helpers/otlp.js';

const SERVICES = ['api', 'web', 'db', 'auth', 'cart', 'mail'];
const HOURS = 6;
const HOUR_NS = 3_600_000_000_000n;

interface QueryReply {
  records: Record<string, unknown>[];
  stats: Record<string, number>;
}

/** Deterministic spans: service s, hour h, index i. */
function corpusRequest(s: number, h: number): Record<string, unknown> {
  const spans = Array.from({ length: 40 }, (_, i) => {
    const n = s * 1000 + h * 100 + i;
    const start = T0_NS + BigInt(h) * HOUR_NS + BigInt(i) * 1_000_000_007n;
    const attrs = [
      { key: 'http.request.method', value: { stringValue: ['GET', 'POST', 'PUT'][n % 3] } },
      { key: 'http.response.status_code', value: { intValue: [200, 201, 404, 500][n % 4] } },
      { key: 'url.path', value: { stringValue: `/v1/items/${n % 7}` } },
      ...(n % 5 === 0 ? [{ key: 'user.id', value: { stringValue: `u${n % 11}` } }] : []),
    ];
    return {
      traceId: hexId(16, 100_000 + Math.floor(n / 4)),
      spanId: hexId(8, 1 + n),
      ...(i % 4 ? { parentSpanId: hexId(8, n) } : {}),
      name: `op-${n % 9}`,
      kind: 1 + (n % 5),
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + BigInt(1000 + ((n * 7919) % 5_000_000))).toString(),
      attributes: attrs,
      status: { code: n % 13 === 0 ? 2 : n % 3 === 0 ? 1 : 0, ...(n % 13 === 0 ? { message: 'boom' } : {}) },
    };
  });
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICES[s] } }, { key: 'k8s.pod.name', value: { stringValue: `${SERVICES[s]}-pod-${h % 2}` } }] },
        scopeSpans: [{ scope: { name: 'corpus' }, spans }],
      },
    ],
  };
}

describe('query port', () => {
  let d: TestDaemon;
  let glob: string;

  const query = async (body: Record<string, unknown>): Promise<{ status: number; json: QueryReply & { error?: { message: string } } }> => {
    const res = await fetch(d.queryUrl('/api/v1/query'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as QueryReply & { error?: { message: string } } };
  };

  beforeAll(async () => {
    // Small files and row groups, so pruning has something to prune.
    d = await startTestDaemon('[buffer]\nmax_rows = 120\nmax_age_seconds = 3600\n[parquet]\nrow_group_size = 20');
    for (let s = 0; s < SERVICES.length; s++) {
      for (let h = 0; h < HOURS; h++) {
        const res = await fetch(d.httpUrl('/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(corpusRequest(s, h)) });
        expect(res.status).toBe(200);
      }
    }
    await d.pipeline.flush();
    glob = `read_parquet('${d.dir}/data/traces/**/*.parquet', hive_partitioning = false)`;
  }, 120_000);
  afterAll(async () => {
    await d?.cleanup();
  });

  it('lists partitions, sorted, optionally under a prefix', async () => {
    const all = (await (await fetch(d.queryUrl('/api/v1/partitions?dataset=traces'))).json()) as { partitions: string[] };
    expect(all.partitions).toEqual(Array.from({ length: HOURS }, (_, h) => `traces/date=2024-01-01/hour=0${h}`));
    const some = (await (await fetch(d.queryUrl('/api/v1/partitions?dataset=traces&prefix=date=2024-01-01/hour=03'))).json()) as { partitions: string[] };
    expect(some.partitions).toEqual(['traces/date=2024-01-01/hour=03']);
    const empty = (await (await fetch(d.queryUrl('/api/v1/partitions?dataset=logs'))).json()) as { partitions: string[] };
    expect(empty.partitions).toEqual([]);
  });

  const FILTERS = [
    "service_name = 'api'",
    "service_name != 'api' AND status_code = 'ERROR'",
    "status_code IN ('OK', 'ERROR') AND kind <> 'SERVER'",
    "name NOT IN ('op-1', 'op-2', 'op-3')",
    "name LIKE 'op-_' AND url_path LIKE '%/3'",
    "url_path NOT LIKE '/v1/items/1%'",
    'http_response_status_code >= 404',
    'http_response_status_code = 500 OR duration_ns < 2000',
    'NOT (duration_ns > 2500000)',
    'parent_span_id IS NULL',
    "parent_span_id IS NOT NULL AND service_name = 'web'",
    "attributes['user.id'] = 'u3'",
    "attributes['user.id'] IS NULL AND http_request_method = 'PUT'",
    "resource_attributes['k8s.pod.name'] LIKE '%-pod-1'",
    "start_time >= '2024-01-01T02:00:00Z' AND start_time < '2024-01-01T03:30:00Z'",
    "start_time > TIMESTAMP '2024-01-01T04:05:17.000000010Z'",
    "status_message = 'boom' OR (kind = 'CLIENT' AND NOT http_request_method = 'GET')",
    'trace_id = \'' + hexId(16, 100_000 + 250) + "'",
    "service_name IN ('db') AND http_response_status_code IN (200, 201) AND start_time < '2024-01-01T01:00:00Z'",
  ];

  for (const filter of FILTERS) {
    it(`matches DuckDB for: ${filter}`, async () => {
      const { status, json } = await query({ dataset: 'traces', filter, select: ['span_id'] });
      expect(status).toBe(200);
      const ours = json.records.map((r) => r.span_id as string).sort();
      // The same WHERE clause, as the filter module renders it for DuckDB.
      // A filter on a resource attribute with a dedicated column reads the column too (schema v2).
      const expr = resourceColumnsInFilter(parseFilter(filter, d.queryEngine.catalog('traces').filterColumns), d.queryEngine.catalog('traces').promoted);
      const theirs = (await duckdbQuery(`SELECT span_id FROM ${glob} WHERE ${toSql(expr)} ORDER BY span_id`)).map((r) => r.span_id as string);
      expect(ours).toEqual(theirs);
      expect(ours.length).toBeGreaterThan(0);
    });
  }

  it('prunes partitions, files and row groups for selective filters and time ranges', async () => {
    const ranged = await query({ dataset: 'traces', start: '2024-01-01T02:00:00Z', end: '2024-01-01T03:00:00Z', select: ['span_id'] });
    expect(ranged.json.records).toHaveLength(SERVICES.length * 40);
    expect(ranged.json.stats.partitions_considered).toBe(HOURS);
    expect(ranged.json.stats.partitions_pruned).toBe(HOURS - 1);
    const selective = await query({ dataset: 'traces', filter: "service_name = 'mail' AND start_time >= '2024-01-01T05:00:00Z'", select: ['span_id'] });
    expect(selective.json.records).toHaveLength(40);
    expect(selective.json.stats.row_groups_pruned).toBeGreaterThan(selective.json.stats.row_groups_considered! / 2);
    expect(selective.json.stats.rows_scanned).toBeLessThan(SERVICES.length * HOURS * 40 / 4);
  });

  it('projects columns and stops at the limit', async () => {
    const { json } = await query({ dataset: 'traces', select: ['name', 'duration_ns', 'start_time'], limit: 7 });
    expect(json.records).toHaveLength(7);
    expect(Object.keys(json.records[0]!).sort()).toEqual(['duration_ns', 'name', 'start_time']);
    expect(json.records[0]!.start_time).toMatch(/^2024-01-01T0\d:\d\d:\d\d\.\d{9}Z$/);
    expect(json.stats.rows_returned).toBe(7);
  });

  it('finds a trace by id reading a small fraction of the bytes', async () => {
    // Spans n = 1208..1211 (service 1, hour 2) share trace floor(n / 4) = 302.
    const id = hexId(16, 100_000 + 302);
    const res = await fetch(d.queryUrl(`/api/v1/traces/${id}`));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { trace_id: string; spans: { trace_id: string; start_time: string }[]; stats: Record<string, number> };
    expect(body.spans.length).toBe(4);
    expect(body.spans.every((s) => s.trace_id === id)).toBe(true);
    const starts = body.spans.map((s) => s.start_time);
    expect(starts).toEqual([...starts].sort());
    const files = await parquetFiles(d.dir);
    const total = files.reduce((n, f) => n + statSync(`${d.dir}/${f}`).size, 0);
    // Rows are sorted by trace_id in every file, so statistics leave about one row group a file.
    expect(body.stats.row_groups_pruned).toBeGreaterThan(body.stats.row_groups_considered! * 0.8);
    expect(body.stats.rows_scanned).toBeLessThan(2 * 20 * body.stats.files_considered!);
    // Once footers are cached, a lookup reads only the row groups that may hold the trace.
    const again = (await (await fetch(d.queryUrl(`/api/v1/traces/${id}`))).json()) as { stats: Record<string, number> };
    // The write log's trace index rules out every file but the candidates without opening them.
    expect(again.stats.files_pruned_by_index).toBeGreaterThanOrEqual(again.stats.files_considered! - 2);
    expect(again.stats.footer_cache_hits).toBe(again.stats.files_considered! - again.stats.files_pruned_by_index!);
    console.log(`trace lookup: ${body.stats.bytes_read} bytes cold, ${again.stats.bytes_read} warm, of ${total} stored`);
    expect(again.stats.bytes_read).toBeLessThan(total / 10);
  });

  it('answers 404 for an unknown trace and 400 for an id that is not 32 hex digits', async () => {
    expect((await fetch(d.queryUrl(`/api/v1/traces/${'f'.repeat(32)}`))).status).toBe(404);
    const bad = await fetch(d.queryUrl('/api/v1/traces/xyz'));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/expected 32 hex digits/);
  });

  it('answers 400 with the position for a malformed filter, an unknown column or dataset', async () => {
    const malformed = await query({ dataset: 'traces', filter: "service_name = 'api' AND (" });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error!.message).toMatch(/position \d+/);
    const unknown = await query({ dataset: 'traces', filter: 'duraton_ns > 5' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error!.message).toMatch(/unknown column "duraton_ns"/);
    const select = await query({ dataset: 'traces', select: ['nope'] });
    expect(select.status).toBe(400);
    const dataset = await query({ dataset: 'spans' });
    expect(dataset.status).toBe(400);
    expect(dataset.json.error!.message).toMatch(/unknown dataset "spans"/);
    const badTime = await query({ dataset: 'traces', start: 'yesterday' });
    expect(badTime.status).toBe(400);
  });

  it('answers an empty result for an empty dataset', async () => {
    const { status, json } = await query({ dataset: 'logs', filter: "severity_text = 'ERROR'" });
    expect(status).toBe(200);
    expect(json.records).toEqual([]);
    expect(json.stats.files_considered).toBe(0);
  });

  it('refuses DELETE paths that leave the dataset, in several encodings, and touches nothing', async () => {
    const before = await parquetFiles(d.dir);
    for (const path of ['..', '../logs', '%2e%2e', '%2E%2E%2Flogs', '%252e%252e', 'date=2024-01-01/..', 'date=2024-01-01//hour=00', '%2Fetc', 'date=2024-01-01%5C..%5C']) {
      const res = await fetch(d.queryUrl(`/api/v1/partitions/traces/${path}`), { method: 'DELETE' });
      expect(res.status, path).toBe(400);
    }
    expect(await parquetFiles(d.dir)).toEqual(before);
  });

  it('deletes a partition: 204, then its files are gone and queries no longer see them', async () => {
    const res = await fetch(d.queryUrl('/api/v1/partitions/traces/date=2024-01-01/hour=05'), { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect((await parquetFiles(d.dir)).some((f) => f.includes('hour=05'))).toBe(false);
    const { json } = await query({ dataset: 'traces', filter: "start_time >= '2024-01-01T05:00:00Z'", select: ['span_id'] });
    expect(json.records).toEqual([]);
    expect((await fetch(d.queryUrl('/api/v1/partitions/traces/date=2024-01-01/hour=05'), { method: 'DELETE' })).status).toBe(404);
  });
});
