/**
 * A broad read's NDJSON written from parquet-wasm's record batches (src/query/columnar/wasm-json.ts)
 * against the column-array path it replaces for broad reads (hyparquet's decoding,
 * json-batches.ts): the same bytes, every row — on a lake the daemon wrote from the seeded load,
 * and on one holding the awkward values (map keys JS objects reorder or drop: integer-like,
 * duplicates, `__proto__`; control characters, quotes, non-ASCII text; 64-bit integers past
 * 2^53; null map values, events and links).
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { jsonBatches } from '../../src/query/columnar/json-batches.js';
import { wasmJsonAnswer } from '../../src/query/columnar/wasm-json.js';
import { emptyStats, type QueryEngine, type QueryOptions } from '../../src/query/engine.js';
import { engineFromConfig } from '../../src/query/engine-from-config.js';
import type { RecordFormat } from '../../src/query/serialise.js';
import { createLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/index.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon } from '../helpers/daemon.js';
import { smallLakeEngine } from '../helpers/lake.js';

async function concat(batches: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of batches) parts.push(b);
  // Each batch owns its ArrayBuffer: a query worker transfers it to the main thread.
  for (const p of parts) expect([p.byteOffset, p.buffer.byteLength]).toEqual([0, p.byteLength]);
  return Buffer.concat(parts);
}

/** Both paths' bytes, their stats, and how the wasm path read each file. */
async function bothWays(engine: QueryEngine, q: QueryOptions, format: RecordFormat, maxFileBytes?: number) {
  const wasmStats = emptyStats();
  const how: string[] = [];
  const answer = wasmJsonAnswer(engine, q, wasmStats, format, maxFileBytes, { onFile: (_k, h) => how.push(h) });
  expect(answer).not.toBeNull();
  const wasm = await concat(answer!);
  const scanStats = emptyStats();
  const scan = await concat(jsonBatches(engine.queryColumns(q, scanStats), format));
  return { wasm, scan, wasmStats, scanStats, how };
}

/** The first differing line of two answers, for a readable failure. */
function firstDifference(a: Buffer, b: Buffer): string | null {
  if (a.equals(b)) return null;
  const la = a.toString('utf8').split('\n');
  const lb = b.toString('utf8').split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) if (la[i] !== lb[i]) return `line ${i}:\nwasm ${la[i]}\nscan ${lb[i]}`;
  return 'same lines, different bytes';
}

describe('broad NDJSON from wasm-decoded Arrow, on a lake of the seeded load', () => {
  let root: string;
  let engine: QueryEngine;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 's3pq-wasmjson-'));
    engine = await smallLakeEngine(root);
  }, 120_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('files larger than the whole-file bound (a quarter of the query budget in a worker) are scanned, into the same bytes', async () => {
    const r = await bothWays(engine, { dataset: 'traces' }, 'ndjson', 1024);
    expect(r.how.length).toBeGreaterThan(0);
    expect(new Set(r.how)).toEqual(new Set(['scan']));
    expect(firstDifference(r.wasm, r.scan)).toBeNull();
  });

  it('select * as NDJSON: every row the same bytes, every file decoded in wasm, the same row counts', async () => {
    const r = await bothWays(engine, { dataset: 'traces' }, 'ndjson');
    expect(r.how.length).toBeGreaterThan(0);
    expect(new Set(r.how)).toEqual(new Set(['wasm']));
    expect(r.wasmStats.rows_returned).toBeGreaterThanOrEqual(6000); // whole requests of 512 spans
    expect(r.wasm.toString('utf8').split('\n').length).toBe(r.wasmStats.rows_returned + 1);
    expect(firstDifference(r.wasm, r.scan)).toBeNull();
    expect([r.wasmStats.rows_returned, r.wasmStats.rows_scanned]).toEqual([r.scanStats.rows_returned, r.scanStats.rows_scanned]);
  });

  it('JSON items and a limit: the same bytes', async () => {
    const items = await bothWays(engine, { dataset: 'traces' }, 'json-items');
    expect(firstDifference(items.wasm, items.scan)).toBeNull();
    const limited = await bothWays(engine, { dataset: 'traces', limit: 3500 }, 'ndjson');
    expect(limited.wasmStats.rows_returned).toBe(3500);
    expect(firstDifference(limited.wasm, limited.scan)).toBeNull();
  });

  it('a projection is scanned into the same stream; a filtered query is not a broad read', async () => {
    const r = await bothWays(engine, { dataset: 'traces', select: ['span_id', 'attributes', 'events'] }, 'ndjson');
    expect(new Set(r.how)).toEqual(new Set(['scan']));
    expect(firstDifference(r.wasm, r.scan)).toBeNull();
    expect(wasmJsonAnswer(engine, { dataset: 'traces', filter: "kind = 'SERVER'" }, emptyStats(), 'ndjson')).toBeNull();
  });
});

describe('broad NDJSON from wasm-decoded Arrow, on awkward values', () => {
  let root: string;
  let engine: QueryEngine;

  const str = (s: string) => ({ stringValue: s });
  const attrs = (pairs: [string, unknown][]) => pairs.map(([key, value]) => ({ key, value }));
  const awkwardMap: [string, unknown][] = [
    ['b', str('first b')],
    ['10', str('ten')],
    ['__proto__', str('not a key in JS')],
    ['2', str('two')],
    ['a', str('quote " backslash \\ tab \t nl \n ctl \u0001 del \u007f')],
    ['b', str('last b')],
    ['01', str('not an index')],
    ['é ünïcödé 🚀 \u2028', str('ok')],
    ['empty', {}],
  ];

  beforeAll(async () => {
    const d = await startTestDaemon();
    root = d.dir;
    const t0 = BigInt(Date.UTC(2024, 0, 1, 5)) * 1_000_000n;
    const spans = Array.from({ length: 40 }, (_, i) => ({
      traceId: (i + 1).toString(16).padStart(32, '0'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: i % 2 ? `span \u0000\u001f "${i}" \\ ünï 💥` : 'plain',
      kind: 2,
      startTimeUnixNano: String(t0 + BigInt(i) * 1_000_123n),
      endTimeUnixNano: String(t0 + BigInt(i) * 1_000_123n + 999_999_999n),
      attributes: attrs([...(i % 3 === 0 ? awkwardMap : [['k', str(`v${i}`)] as [string, unknown]]), ['http.response.status_code', { intValue: i % 4 === 0 ? '9007199254740993' : String(-i * 1_000_000_007) }], ['http.request.method', str('GET')]]),
      droppedAttributesCount: i % 5 === 0 ? 4_294_967_295 : 0,
      events: i % 2 ? [{ timeUnixNano: String(t0 + BigInt(i)), name: `ev\n${i}`, attributes: attrs(i % 4 === 1 ? awkwardMap : []) }, { timeUnixNano: String(t0), name: 'e2', attributes: [] }] : [],
      links: i % 7 === 0 ? [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceState: 'x=1', attributes: attrs([['3', str('three')], ['1', str('one')]]) }] : [],
      status: i % 6 === 0 ? { code: 2, message: 'bad\r\nthing \b\f' } : {},
    }));
    const body = { resourceSpans: [{ resource: { attributes: attrs([['service.name', str('awk')], ['9', str('nine')], ['service.name', str('dup')]]) }, scopeSpans: [{ scope: { name: 'sc', attributes: attrs(awkwardMap) }, spans }] }] };
    const res = await fetch(d.httpUrl('/v1/traces'), { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    // Logs and metrics: their own column types (floats, booleans, lists of numbers).
    const ts = String(t0);
    const logs = { resourceLogs: [{ resource: { attributes: attrs([['service.name', str('awk')]]) }, scopeLogs: [{ scope: { name: 'sc' }, logRecords: Array.from({ length: 20 }, (_, i) => ({ timeUnixNano: String(t0 + BigInt(i)), observedTimeUnixNano: ts, severityNumber: i % 24, severityText: i % 2 ? 'WARN' : '', body: i % 3 ? str(`line ${i} "q" \u0002 é`) : { intValue: String(i * 1e12) }, attributes: attrs(i % 4 ? awkwardMap : [['n', { doubleValue: i / 3 }], ['b', { boolValue: true }]]), traceId: i % 2 ? (i + 1).toString(16).padStart(32, '0') : '' })) }] }] };
    const point = (i: number) => ({ timeUnixNano: String(t0 + BigInt(i)), startTimeUnixNano: ts, attributes: attrs(i % 2 ? awkwardMap : [['k', str('v')]]) });
    const metrics = { resourceMetrics: [{ resource: { attributes: attrs([['service.name', str('awk')]]) }, scopeMetrics: [{ scope: { name: 'sc' }, metrics: [
      { name: 'g', unit: '1', gauge: { dataPoints: Array.from({ length: 5 }, (_, i) => ({ ...point(i), asDouble: i === 0 ? 0.1 + 0.2 : i * -1.5e300 })) } },
      { name: 's', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: Array.from({ length: 5 }, (_, i) => ({ ...point(i), asInt: String(i * 4_000_000_000_000_000) })) } },
      { name: 'h', histogram: { aggregationTemporality: 1, dataPoints: Array.from({ length: 5 }, (_, i) => ({ ...point(i), count: String(i * 3), sum: i * 0.25, bucketCounts: [String(i), '1', '2'], explicitBounds: [0.5, 10], min: 0, max: i })) } },
    ] }] }] };
    for (const [path, payload] of [['/v1/logs', logs], ['/v1/metrics', metrics]] as const) {
      const r = await fetch(d.httpUrl(path), { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
      expect([path, r.status, await r.text()]).toEqual([path, 200, expect.any(String)]);
    }
    await d.stop(); // flushes every buffer into the lake
    const config = parseConfigText(`[storage]\nbackend = "local"\nlocal_path = ${JSON.stringify(join(root, 'data'))}\n[partitioning]\nmax_past_hours = 0\n`);
    engine = engineFromConfig(config, await openStore(config, createLogger('silent'), 'test', { readOnly: true }), 'test');
  }, 120_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('every row the same bytes as the column-array path, decoded in wasm', async () => {
    const r = await bothWays(engine, { dataset: 'traces' }, 'ndjson');
    expect(new Set(r.how)).toEqual(new Set(['wasm']));
    expect(r.wasmStats.rows_returned).toBe(40);
    expect(firstDifference(r.wasm, r.scan)).toBeNull();
    // The awkward values did reach the answer: JS object order and the last duplicate.
    const rows = r.wasm.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    expect(Object.keys(rows[0]!.attributes!).slice(0, 2)).toEqual(['2', '10']);
    expect(rows[0]!.attributes!.b).toBe('last b');
    expect(r.wasm.toString('utf8')).toContain('"http_response_status_code":"9007199254740993"');
  });

  it.each([
    ['logs', 20],
    ['metrics', 15],
  ] as const)('%s: every row the same bytes as the column-array path, decoded in wasm', async (dataset, rows) => {
    const q = { dataset };
    const wasmStats = emptyStats();
    const how: string[] = [];
    const answer = wasmJsonAnswer(engine, q, wasmStats, 'ndjson', undefined, { onFile: (_k, h) => how.push(h) });
    const scan = await concat(jsonBatches(engine.queryColumns(q, emptyStats()), 'ndjson'));
    expect(scan.toString('utf8').trim().split('\n').length).toBe(rows);
    expect(answer).not.toBeNull(); // the Arrow writers cover every column type of the datasets
    const wasm = await concat(answer!);
    expect(how.length).toBeGreaterThan(0);
    expect(new Set(how)).toEqual(new Set(['wasm']));
    expect(firstDifference(wasm, scan)).toBeNull();
  });
});
