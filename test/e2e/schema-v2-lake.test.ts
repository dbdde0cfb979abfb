/**
 * A lake holding both resource layouts: a file written without dedicated resource columns (the
 * layout of schema version 1: every resource attribute in `resource_attributes`) and a file of
 * version 2 (host.name, k8s.pod.name in their columns). The query port, Tempo, Jaeger and DuckDB
 * answer `resource.host.name` alike for both, and compacting the two files together reads back
 * the same values.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { WriteLog } from '../../src/log/write-log.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { hexId, jsonSpan } from '../helpers/otlp.js';
import { waitFor } from '../helpers/wait.js';
import { lakeDaemonConfig } from '../helpers/lake-config.js';

let dir: string;
const quiet = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));

const config = (resourceColumns: string | null, extra = '') =>
  lakeDaemonConfig(dir, `${extra}\n[schema.traces]\n${resourceColumns === null ? '' : `promoted_resource_attributes = ${resourceColumns}`}`);

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const TRACE = { v1: hexId(16, 1001), v2: hexId(16, 2002) };

function request(version: 'v1' | 'v2'): Record<string, unknown> {
  const spans = [0, 1, 2].map((i) => jsonSpan({ traceId: TRACE[version], spanId: hexId(8, (version === 'v1' ? 100 : 200) + i), name: `op-${version}-${i}` }));
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'api'), str('host.name', `host-${version}`), str('k8s.pod.name', `pod-${version}`), str('team', 'core')] },
        scopeSpans: [{ scope: { name: 'lake' }, spans }],
      },
    ],
  };
}

async function send(d: Daemon, version: 'v1' | 'v2'): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request(version)) });
  expect(res.status).toBe(200);
  await d.pipeline.flush();
}

// The span range of the fixtures (2024-01-01T00:05Z), in the units of each API.
const START_S = 1704067200;
const END_S = START_S + 3600;

describe('a lake of v1 and v2 resource layouts', () => {
  let d: Daemon;
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${d.ports.query}${path}`);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-lake-'));
    const v1 = await startDaemon(config('[]'), { logger: quiet });
    await send(v1, 'v1');
    await v1.stop();
    d = await startDaemon(config(null), { logger: quiet });
    await send(d, 'v2');
  }, 120_000);
  afterAll(async () => {
    await d?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores the two layouts: the map holds host.name in one file, its column in the other', async () => {
    const rows = await duckdbQuery(
      `SELECT trace_id, host_name, resource_attributes['host.name'] AS in_map, resource_attributes['team'] AS team FROM read_parquet('${dir}/data/traces/**/*.parquet', union_by_name = true) ORDER BY span_id`,
    );
    expect(rows.map((r) => [r.host_name, r.in_map, r.team])).toEqual([
      ...Array(3).fill([null, 'host-v1', 'core']),
      ...Array(3).fill(['host-v2', null, 'core']),
    ]);
    // One expression reads both versions in SQL (docs/datasets.md).
    const both = await duckdbQuery(`SELECT DISTINCT coalesce(host_name, resource_attributes['host.name']) AS h FROM read_parquet('${dir}/data/traces/**/*.parquet', union_by_name = true) ORDER BY h`);
    expect(both.map((r) => r.h)).toEqual(['host-v1', 'host-v2']);
  });

  it('answers a query-port filter on resource_attributes for both versions', async () => {
    const query = async (filter: string) => {
      const res = await fetch(`http://127.0.0.1:${d.ports.query}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'traces', filter, select: ['span_id'] }) });
      expect(res.status).toBe(200);
      return ((await res.json()) as { records: { span_id: string }[] }).records.map((r) => r.span_id).sort();
    };
    expect(await query("resource_attributes['host.name'] = 'host-v1'")).toEqual([100, 101, 102].map((n) => hexId(8, n)));
    expect(await query("resource_attributes['host.name'] = 'host-v2'")).toEqual([200, 201, 202].map((n) => hexId(8, n)));
    expect(await query("resource_attributes['k8s.pod.name'] LIKE 'pod-%'")).toHaveLength(6);
    expect(await query("resource_attributes['host.name'] IS NULL")).toEqual([]);
  });

  it('answers Tempo resource filters, tag values and trace lookups for both versions', async () => {
    for (const v of ['v1', 'v2'] as const) {
      const q = encodeURIComponent(`{ resource.host.name = "host-${v}" }`);
      const found = await get<{ traces: { traceID: string }[] }>(`/tempo/api/search?q=${q}&start=${START_S}&end=${END_S}&limit=10`);
      expect(found.traces.map((t) => t.traceID)).toEqual([TRACE[v]]);
    }
    const values = await get<{ tagValues: { value: string }[] }>(`/tempo/api/v2/search/tag/resource.host.name/values?start=${START_S}&end=${END_S}`);
    expect(values.tagValues.map((t) => t.value).sort()).toEqual(['host-v1', 'host-v2']);
    const names = await get<{ scopes: { name: string; tags: string[] }[] }>(`/tempo/api/v2/search/tags?scope=resource&start=${START_S}&end=${END_S}`);
    expect(names.scopes.find((s) => s.name === 'resource')!.tags).toEqual(expect.arrayContaining(['host.name', 'k8s.pod.name', 'team']));
    for (const v of ['v1', 'v2'] as const) {
      const trace = await get<{ resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] } }[] }>(`/tempo/api/traces/${TRACE[v]}`);
      const attrs = Object.fromEntries(trace.resourceSpans[0]!.resource.attributes.map((a) => [a.key, a.value.stringValue]));
      expect(attrs).toMatchObject({ 'service.name': 'api', 'host.name': `host-${v}`, 'k8s.pod.name': `pod-${v}`, team: 'core' });
    }
  });

  it('answers Jaeger tag searches and process tags for both versions', async () => {
    const range = `start=${START_S * 1_000_000}&end=${END_S * 1_000_000}`;
    for (const v of ['v1', 'v2'] as const) {
      const env = await get<{ data: { traceID: string; processes: Record<string, { tags: { key: string; value: unknown }[] }> }[] }>(
        `/jaeger/api/traces?service=api&tags=${encodeURIComponent(JSON.stringify({ 'host.name': `host-${v}` }))}&${range}&limit=10`,
      );
      expect(env.data.map((t) => t.traceID)).toEqual([TRACE[v]]);
      const tags = Object.fromEntries(Object.values(env.data[0]!.processes)[0]!.tags.map((t) => [t.key, t.value]));
      expect(tags).toMatchObject({ 'host.name': `host-${v}`, 'k8s.pod.name': `pod-${v}`, team: 'core' });
    }
  });
});

describe('compaction of a v1 and a v2 file', () => {
  it('merges both into one file that reads back the same values', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-lake-c-'));
    try {
      const v1 = await startDaemon(config('[]', '[compaction]\nenabled = false'), { logger: quiet });
      await send(v1, 'v1');
      await v1.stop();
      const d = await startDaemon(config(null, '[compaction]\nenabled = false'), { logger: quiet });
      await send(d, 'v2');
      let port = d.ports.query;
      const read = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ dataset: 'traces', filter: "resource_attributes['host.name'] IS NOT NULL", select: ['span_id', 'service_name', 'host_name', 'k8s_pod_name', 'resource_attributes'] }),
        });
        return ((await res.json()) as { records: Record<string, unknown>[] }).records.sort((a, b) => String(a.span_id).localeCompare(String(b.span_id)));
      };
      const trace = async (id: string) => (await (await fetch(`http://127.0.0.1:${port}/tempo/api/traces/${id}`)).json()) as unknown;
      const before = { rows: await read(), v1: await trace(TRACE.v1), v2: await trace(TRACE.v2) };
      expect(before.rows).toHaveLength(6);
      await d.stop();

      const c = await startDaemon(config(null, '[compaction]\nenabled = true\ninterval_seconds = 1\nmin_partition_age_seconds = 0\ndelete_grace_seconds = 0\nlease_seconds = 5'), { logger: quiet });
      try {
        await waitFor(async () => {
          const v = await new WriteLog({ store: c.store, instanceId: 'check' }).view('traces');
          return v.complete && v.files.length === 1 && v.files[0]!.rows === 6 ? true : undefined;
        }, 120_000, 'the partition compacted into one file');
        port = c.ports.query;
        const after = { rows: await read(), v1: await trace(TRACE.v1), v2: await trace(TRACE.v2) };
        expect(after).toEqual(before);
        // And in SQL, the merged file holds both layouts' values by name.
        const sql = await duckdbQuery(`SELECT coalesce(host_name, resource_attributes['host.name']) AS h, count(*) AS n FROM read_parquet('${dir}/data/traces/**/*.parquet') GROUP BY h ORDER BY h`);
        expect(sql.map((r) => [r.h, Number(r.n)])).toEqual([['host-v1', 3], ['host-v2', 3]]);
      } finally {
        await c.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
