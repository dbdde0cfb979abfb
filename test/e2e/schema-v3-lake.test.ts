/**
 * A lake holding traces files of schema version 2 (with a stored `end_time`) and version 3
 * (without: `start_time + duration_ns`). The query port (select in NDJSON and Arrow, filters on
 * `end_time`, Tempo), and DuckDB through the `ddl` view, answer the same exact end times for both;
 * compacting the two files together gives a version-3 file that reads back the same values.
 *
 * The version-2 file is the daemon's own file of the same spans with the column put back
 * (what the previous writer stored: `end_time` after `start_time`, version 2 in the footer),
 * swapped in through the write log.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Field, makeData, RecordBatch, Schema, Struct, tableFromIPC, TimestampNanosecond, tableFromIPC as fromIpc } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { generateDdl } from '../../src/ddl/index.js';
import { createLogger } from '../../src/logger.js';
import { WriteLog } from '../../src/log/write-log.js';
import { FOOTER_KEYS } from '../../src/parquet/contract.js';
import { encodeParquet } from '../../src/parquet/writer.js';
import { TRACES_STORAGE } from '../../src/schema/traces.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { hexId } from '../helpers/otlp.js';
import { engineFromConfig } from '../../src/query/engine-from-config.js';
import { emptyStats } from '../../src/query/engine.js';
import { wasmArrowAnswer } from '../../src/query/columnar/wasm-arrow.js';
import { wasmJsonAnswer } from '../../src/query/columnar/wasm-json.js';
import { waitFor } from '../helpers/wait.js';
import { lakeDaemonConfig } from '../helpers/lake-config.js';

let dir: string;
const quiet = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));

const config = (extra = '') => lakeDaemonConfig(dir, extra);

const T0 = 1704067500_123456789n; // 2024-01-01T00:05:00.123456789Z
const TRACE = { v2: hexId(16, 3002), v3: hexId(16, 3003) };

/** Span times with sub-millisecond parts, an end before its start and an unset end (0). */
const DURATIONS = [1n, 1_234_567n, 987_654_321_987n, -5_000n, null] as const;

interface Sent {
  readonly spanId: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
}

function request(version: 'v2' | 'v3'): { body: unknown; sent: Sent[] } {
  const sent: Sent[] = [];
  const spans = DURATIONS.map((d, i) => {
    const spanId = hexId(8, (version === 'v2' ? 200 : 300) + i);
    const startNs = T0 + BigInt(i) * 1_000_003n;
    const endNs = d === null ? 0n : startNs + d;
    sent.push({ spanId, startNs, endNs });
    return { traceId: TRACE[version], spanId, name: `op-${version}-${i}`, kind: 2, startTimeUnixNano: String(startNs), ...(d === null ? {} : { endTimeUnixNano: String(endNs) }) };
  });
  return { body: { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }, scopeSpans: [{ scope: { name: 'lake' }, spans }] }] }, sent };
}

async function send(d: Daemon, version: 'v2' | 'v3'): Promise<Sent[]> {
  const { body, sent } = request(version);
  const res = await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  await d.pipeline.flush();
  return sent;
}

/** The file's rows with `end_time` stored after `start_time` (start + duration), footer version 2. */
function asVersion2(bytes: Uint8Array): Uint8Array {
  const table = tableFromIPC(wasm.readParquet(bytes).intoIPCStream());
  const fields = [...table.schema.fields];
  const at = fields.findIndex((f) => f.name === 'start_time') + 1;
  fields.splice(at, 0, new Field('end_time', new TimestampNanosecond(), false));
  const schema = new Schema(fields);
  const batches = table.batches.map((b) => {
    const start = b.getChild('start_time')!.data[0]!.values as BigInt64Array;
    const duration = b.getChild('duration_ns')!.data[0]!.values as BigInt64Array;
    const end = new BigInt64Array(b.numRows);
    for (let i = 0; i < end.length; i++) end[i] = BigInt.asIntN(64, start[i]! + duration[i]!);
    const children = [...b.data.children];
    children.splice(at, 0, makeData({ type: new TimestampNanosecond(), length: b.numRows, nullCount: 0, data: end }));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }));
  });
  const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const kv = new Map((meta.key_value_metadata ?? []).filter((e) => e.key !== 'ARROW:schema').map((e) => [e.key, e.value ?? '']));
  kv.set(FOOTER_KEYS.schemaVersion, '2');
  return encodeParquet(batches, kv, { compression: 'ZSTD', rowGroupSize: TRACES_STORAGE.rowGroupRows ?? 8192, pageSize: 4096, dictionaryEnabled: true, statisticsEnabled: true, columnEncodings: TRACES_STORAGE.encodings });
}

/** Replaces the dataset's only file by its version-2 copy, through the write log. */
async function downgradeTo2(d: Daemon): Promise<string> {
  const log = new WriteLog({ store: d.store, instanceId: 'fixture' });
  const view = await log.view('traces');
  if (!view.complete) throw new Error(`the write log is not complete: ${view.reason}`);
  expect(view.files).toHaveLength(1);
  const f = view.files[0]!;
  const v2 = asVersion2(await d.store.get(f.key));
  const key = f.key.replace(/\.parquet$/, '-v2.parquet');
  await d.store.put(key, v2);
  await log.append('traces', [{ key, rows: f.rows, bytes: v2.byteLength, minTimeNs: f.minTimeNs, maxTimeNs: f.maxTimeNs }], { removed: [f.key] });
  await d.store.delete([f.key]);
  return key;
}

/** Runs the `ddl --engine duckdb` script, then a query over its views. */
async function viaDuckdbView(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const conn = await instance.connect();
    try {
      await conn.run(generateDdl(config(), { engine: 'duckdb', dataset: 'traces' }));
      return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

const rfc3339 = (ns: bigint): string => {
  const ms = ns / 1_000_000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
};

async function queryPort(port: number, body: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'traces', ...body }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { records: Record<string, unknown>[] }).records.sort((a, b) => String(a.span_id).localeCompare(String(b.span_id)));
}

async function arrowEnds(port: number): Promise<Map<string, bigint>> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'traces', format: 'arrow', select: ['span_id', 'end_time'] }) });
  expect(res.status).toBe(200);
  const table = fromIpc(new Uint8Array(await res.arrayBuffer()));
  const out = new Map<string, bigint>();
  for (const batch of table.batches) {
    const ends = batch.getChild('end_time')!.data[0]!;
    const ids = batch.getChild('span_id')!;
    for (let i = 0; i < batch.numRows; i++) out.set(ids.get(i) as string, (ends.values as BigInt64Array)[ends.offset + i]!);
  }
  return out;
}

describe('a lake of traces schema versions 2 and 3', () => {
  let d: Daemon;
  let sent: Sent[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-v3-lake-'));
    const first = await startDaemon(config('[compaction]\nenabled = false'), { logger: quiet });
    const v2 = await send(first, 'v2');
    await downgradeTo2(first);
    await first.stop();
    d = await startDaemon(config('[compaction]\nenabled = false'), { logger: quiet });
    sent = [...v2, ...(await send(d, 'v3'))].sort((a, b) => a.spanId.localeCompare(b.spanId));
  }, 120_000);
  afterAll(async () => {
    await d?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds one file that stores end_time and one that does not', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const rows = (await conn.runAndReadAll(`SELECT file_name LIKE '%-v2.parquet' AS v2, bool_or(name = 'end_time') AS has_end FROM parquet_schema('${dir}/data/traces/**/*.parquet') GROUP BY ALL ORDER BY v2`)).getRowObjectsJson();
    conn.closeSync();
    instance.closeSync();
    expect(rows).toEqual([{ v2: false, has_end: false }, { v2: true, has_end: true }]);
  });

  it('answers end_time exactly for both versions: NDJSON/JSON select, Arrow, and a filter on it', async () => {
    const want = sent.map((s) => ({ span_id: s.spanId, end_time: rfc3339(s.endNs) }));
    expect(await queryPort(d.ports.query!, { select: ['span_id', 'end_time'] })).toEqual(want);
    // A filter on end_time reads the stored column in one file and the derived one in the other.
    const cut = T0 + 1_000_000n;
    const later = await queryPort(d.ports.query!, { select: ['span_id', 'end_time'], filter: `end_time > '${rfc3339(cut)}'` });
    expect(later).toEqual(want.filter((_, i) => sent[i]!.endNs > cut));
    expect(later.length).toBeGreaterThan(2);
    expect(await arrowEnds(d.ports.query!)).toEqual(new Map(sent.map((s) => [s.spanId, s.endNs])));
    // A broad select of every column answers end_time in its old place, after start_time.
    const all = await queryPort(d.ports.query!, {});
    const keys = Object.keys(all[0]!);
    expect(keys.indexOf('end_time')).toBe(keys.indexOf('start_time') + 1);
    expect(all.map((r) => r.end_time)).toEqual(want.map((w) => w.end_time));
  });

  it('decodes both versions in wasm for a broad read (Arrow and NDJSON), end_time added to version 3', async () => {
    const engine = engineFromConfig(config(), d.store, 'broad');
    const how = new Map<string, string>();
    const onFile = (key: string, h: 'wasm' | 'scan') => how.set(key, h);
    const chunks: Uint8Array[] = [];
    for await (const c of wasmArrowAnswer(engine, { dataset: 'traces' }, emptyStats(), { onFile })!) chunks.push(c);
    const table = fromIpc(Buffer.concat(chunks));
    expect(table.schema.fields.map((f) => f.name).indexOf('end_time')).toBe(table.schema.fields.map((f) => f.name).indexOf('start_time') + 1);
    const got = new Map<string, bigint>();
    for (const batch of table.batches) {
      const ends = batch.getChild('end_time')!.data[0]!;
      for (let i = 0; i < batch.numRows; i++) got.set(batch.getChild('span_id')!.get(i) as string, (ends.values as BigInt64Array)[ends.offset + i]!);
    }
    expect(got).toEqual(new Map(sent.map((s) => [s.spanId, s.endNs])));
    expect([...how.values()]).toEqual(['wasm', 'wasm']);
    how.clear();
    let ndjson = '';
    for await (const c of wasmJsonAnswer(engine, { dataset: 'traces' }, emptyStats(), 'ndjson', undefined, { onFile })!) ndjson += Buffer.from(c).toString();
    const rows = ndjson.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>).sort((a, b) => a.span_id!.localeCompare(b.span_id!));
    expect(rows.map((r) => [r.span_id, r.end_time])).toEqual(sent.map((s) => [s.spanId, rfc3339(s.endNs)]));
    expect([...how.values()]).toEqual(['wasm', 'wasm']);
  });

  it('gives Tempo the sent end times of both traces', async () => {
    for (const v of ['v2', 'v3'] as const) {
      const res = await fetch(`http://127.0.0.1:${d.ports.query!}/tempo/api/traces/${TRACE[v]}`);
      expect(res.status).toBe(200);
      const trace = (await res.json()) as { resourceSpans: { scopeSpans: { spans: { spanId: string; endTimeUnixNano: string }[] }[] }[] };
      const spans = trace.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      expect(spans).toHaveLength(DURATIONS.length);
      for (const s of spans) {
        const id = /^[0-9a-f]{16}$/.test(s.spanId) ? s.spanId : Buffer.from(s.spanId, 'base64').toString('hex');
        expect(BigInt(s.endTimeUnixNano), id).toBe(sent.find((x) => x.spanId === id)!.endNs);
      }
    }
  });

  it('gives DuckDB the same end times through the ddl view', async () => {
    const rows = await viaDuckdbView(`SELECT span_id, epoch_ns(end_time)::VARCHAR AS e, typeof(end_time) AS t FROM traces ORDER BY span_id`);
    expect(rows).toEqual(sent.map((s) => ({ span_id: s.spanId, e: String(s.endNs), t: 'TIMESTAMP_NS' })));
  });
});

describe('compaction of a version-2 and a version-3 traces file', () => {
  it('writes one version-3 file whose derived end_time equals the dropped one', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-v3-lake-c-'));
    try {
      const first = await startDaemon(config('[compaction]\nenabled = false'), { logger: quiet });
      const sent = [...(await send(first, 'v2'))];
      await downgradeTo2(first);
      await first.stop();
      const d = await startDaemon(config('[compaction]\nenabled = false'), { logger: quiet });
      sent.push(...(await send(d, 'v3')));
      const before = { port: await queryPort(d.ports.query!, { select: ['span_id', 'start_time', 'end_time', 'duration_ns'] }), duck: await viaDuckdbView(`SELECT span_id, epoch_ns(end_time)::VARCHAR AS e FROM traces ORDER BY span_id`) };
      expect(before.port).toHaveLength(sent.length);
      await d.stop();

      const c = await startDaemon(config('[compaction]\nenabled = true\ninterval_seconds = 1\nmin_partition_age_seconds = 0\ndelete_grace_seconds = 0\nlease_seconds = 5'), { logger: quiet });
      try {
        await waitFor(async () => {
          const v = await new WriteLog({ store: c.store, instanceId: 'check' }).view('traces');
          return v.complete && v.files.length === 1 && v.files[0]!.rows === sent.length ? true : undefined;
        }, 120_000, 'the partition compacted into one file');
        const after = { port: await queryPort(c.ports.query!, { select: ['span_id', 'start_time', 'end_time', 'duration_ns'] }), duck: await viaDuckdbView(`SELECT span_id, epoch_ns(end_time)::VARCHAR AS e FROM traces ORDER BY span_id`) };
        expect(after).toEqual(before);
        expect(after.duck.map((r) => r.e)).toEqual([...sent].sort((a, b) => a.spanId.localeCompare(b.spanId)).map((s) => String(s.endNs)));
        // The merged file is version 3: no end_time column, version 3 in its footer.
        const view = await new WriteLog({ store: c.store, instanceId: 'check' }).view('traces');
        if (!view.complete) throw new Error('the write log is not complete');
        const file = view.files[0]!;
        const bytes = await c.store.get(file.key);
        const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
        expect(meta.schema.map((e) => e.name)).not.toContain('end_time');
        expect(meta.key_value_metadata?.find((e) => e.key === FOOTER_KEYS.schemaVersion)?.value).toBe('3');
      } finally {
        await c.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
