/**
 * `npx tsx bench/storage-layouts.ts`: what cheaper traces layouts would save, on the bench's
 * realistic trace load (the same records and sort as the Storage table of `npm run bench`):
 * bytes per span of each column (ZSTD column chunks, from the footer) and of whole files under
 * layout variants — encodings per column, and columns that could be derived instead of stored.
 */
import { compress as zstdCompress } from '@bokuweb/zstd-wasm';
import { loadZstdWasm } from '../src/parquet/zstd-wasm.js';
import { Field, makeData, RecordBatch, Schema, Struct, Table, TimestampNanosecond } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import type { ColumnEncoding } from '../src/parquet/storage-layout.js';
import { encodeParquet, layoutWriterOptions } from '../src/parquet/writer.js';
import { DATASETS } from '../src/schema/datasets.js';
import { decodeRequest } from '../src/otlp/decode.js';
import { convertTraces } from '../src/pipeline/convert-traces.js';
import { Partitioner } from '../src/pipeline/partitioner.js';
import { sortBatches } from '../src/pipeline/sort.js';
import { parsePromoted } from '../src/schema/promoted.js';
import { sortedBenchTraces } from './load/sorted-traces.js';

const { payloads, spans, sorted } = sortedBenchTraces();
await loadZstdWasm(); // the process's one loader (a second init() corrupts calls in flight)
const otlpZstd = payloads.reduce((n, p) => n + zstdCompress(Buffer.from(p), 3).length, 0);
const layout = DATASETS.traces.storage;

function encode(batch: RecordBatch, encodings: Readonly<Record<string, ColumnEncoding>>): Uint8Array {
  // The layout's pages and write batches, as the daemon writes them (this used 1 MiB pages until
  // 2026-11-30, so its B/span were ~7 % below the daemon's files with 4 KiB pages).
  const base = { compression: 'ZSTD' as const, rowGroupSize: 100_000, pageSize: 65_536, dictionaryEnabled: true, statisticsEnabled: true };
  return encodeParquet([batch], new Map(), layoutWriterOptions(base, { ...layout, encodings }));
}

function without(batch: RecordBatch, drop: readonly string[]): RecordBatch {
  const t = new Table(batch);
  return t.select(t.schema.fields.map((f) => f.name).filter((n) => !drop.includes(n))).batches[0]!;
}

/**
 * The batch with `end_time` stored after `start_time` (start + duration), as schema version 2
 * stored it: the "before" of version 3, which derives it.
 */
function withEndTime(batch: RecordBatch): RecordBatch {
  const fields = [...batch.schema.fields];
  const at = fields.findIndex((f) => f.name === 'start_time') + 1;
  fields.splice(at, 0, new Field('end_time', new TimestampNanosecond(), false));
  const start = batch.getChild('start_time')!.data[0]!;
  const duration = batch.getChild('duration_ns')!.data[0]!;
  const end = new BigInt64Array(batch.numRows);
  for (let i = 0; i < end.length; i++) end[i] = BigInt.asIntN(64, (start.values as BigInt64Array)[start.offset + i]! + (duration.values as BigInt64Array)[duration.offset + i]!);
  const children = [...batch.data.children];
  children.splice(at, 0, makeData({ type: new TimestampNanosecond(), length: batch.numRows, nullCount: 0, data: end }));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}

const base = encode(sorted, layout.encodings);
const perColumn = new Map<string, number>();
for (const rg of parquetMetadata(base.buffer.slice(base.byteOffset, base.byteOffset + base.byteLength) as ArrayBuffer).row_groups) {
  for (const c of rg.columns) {
    const top = c.meta_data!.path_in_schema[0]!;
    perColumn.set(top, (perColumn.get(top) ?? 0) + Number(c.meta_data!.total_compressed_size));
  }
}
const b = (n: number) => (n / spans).toFixed(2);
console.log(`## Traces bytes per span by column (ZSTD, ${spans.toLocaleString('en')} spans, ${layout.rowGroupRows}-row groups)\n`);
console.log(`whole file ${b(base.length)} B/span; OTLP protobuf + zstd(3) ${b(otlpZstd)} B/span; ratio ${(base.length / otlpZstd).toFixed(3)}\n`);
console.log('| column | bytes/span |\n|---|---|');
for (const [name, n] of [...perColumn].sort((x, y) => y[1] - x[1]).slice(0, 16)) console.log(`| ${name} | ${b(n)} |`);

const variants: [string, RecordBatch, Record<string, ColumnEncoding>][] = [
  ['today (layout of src/schema/traces.ts: version 3, end_time derived)', sorted, { ...layout.encodings }],
  ['end_time stored as well (schema version 2)', withEndTime(sorted), { ...layout.encodings, end_time: 'DELTA_BINARY_PACKED' }],
  ['end_time stored instead of duration_ns (derived: end_time - start_time)', without(withEndTime(sorted), ['duration_ns']), { ...layout.encodings, end_time: 'DELTA_BINARY_PACKED' }],
  ['span_id, parent_span_id DELTA_BYTE_ARRAY', sorted, { ...layout.encodings, span_id: 'DELTA_BYTE_ARRAY', parent_span_id: 'DELTA_BYTE_ARRAY' }],
  ['span_id, parent_span_id PLAIN', sorted, { ...layout.encodings, span_id: 'PLAIN', parent_span_id: 'PLAIN' }],
  ['trace_id dictionary (8 spans per trace)', sorted, Object.fromEntries(Object.entries(layout.encodings).filter(([k]) => k !== 'trace_id'))],
  ['parent_span_id dictionary', sorted, Object.fromEntries(Object.entries(layout.encodings).filter(([k]) => k !== 'parent_span_id'))],
  ['start_time dictionary (no DELTA)', sorted, Object.fromEntries(Object.entries(layout.encodings).filter(([k]) => k !== 'start_time'))],
  ['duration_ns PLAIN', sorted, { ...layout.encodings, duration_ns: 'PLAIN' }],
];
// More promoted attributes (a `[promoted] traces` setting users have today): values leave the map
// for typed top-level columns, so each key is no longer stored per row.
const widePromoted = [
  'http.request.method', 'http.response.status_code:int64', 'url.path', 'server.address', 'server.port:int64', 'url.scheme', 'user_agent.original',
  'network.protocol.version', 'client.address', 'http.request.body.size:int64', 'http.route', 'db.system', 'db.statement', 'db.name', 'db.operation',
  'network.transport', 'db.user', 'db.rows:int64', 'peer.service',
].map(parsePromoted);
const wide: RecordBatch[] = [];
const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
for (const p of payloads) for (const g of convertTraces(decodeRequest('traces', 'protobuf', p) as never, partitioner, widePromoted).groups) wide.push(g.batch);
variants.push([`${widePromoted.length} promoted span attributes (every semconv one of the load) instead of 4`, sortBatches(wide, layout.sortBy), { ...layout.encodings }]);
console.log('\n| layout variant | bytes/span | vs today | ÷ OTLP+zstd |\n|---|---|---|---|');
for (const [name, batch, enc] of variants) {
  const n = encode(batch, enc).length;
  console.log(`| ${name} | ${b(n)} | ${((n / base.length - 1) * 100).toFixed(1)} % | ${(n / otlpZstd).toFixed(3)} |`);
}

// ---- compression levels ------------------------------------------------------------------
// parquet-wasm (our writer) writes ZSTD at level 1 and takes no level. What higher levels would
// buy is measured here by rewriting today's file with DuckDB's Parquet writer at several ZSTD
// levels (single-threaded): its own encodings differ from ours, so read the ratios between its
// levels, not its absolute bytes against ours.
if (process.argv.includes('--no-levels')) process.exit(0);
const { DuckDBInstance } = await import('@duckdb/node-api');
const { mkdtemp, writeFile, stat, rm } = await import('node:fs/promises');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const dir = await mkdtemp(join(tmpdir(), 's3pq-levels-'));
await writeFile(join(dir, 'today.parquet'), base);
const duck = await (await DuckDBInstance.create(':memory:')).connect();
await duck.run(`SET threads = 1; CREATE TABLE t AS SELECT * FROM read_parquet('${join(dir, 'today.parquet')}')`);
console.log(`\n| writer, codec, level | bytes/span | ÷ OTLP+zstd | CPU µs/span to write |\n|---|---|---|---|`);
console.log(`| parquet-wasm ZSTD (level 1, fixed) | ${b(base.length)} | ${(base.length / otlpZstd).toFixed(3)} | ${timeWasm()} |`);
// DuckDB takes a level for ZSTD only ("Compression level is only supported for the ZSTD compression codec").
for (const [codec, levels] of [['zstd', [1, 3, 9, 15, 19]]] as const) {
  for (const level of levels) {
    const out = join(dir, `${codec}-${level}.parquet`);
    const c0 = process.cpuUsage();
    await duck.run(`COPY t TO '${out}' (FORMAT parquet, COMPRESSION ${codec}, COMPRESSION_LEVEL ${level}, ROW_GROUP_SIZE 8192)`);
    const c = process.cpuUsage(c0);
    const n = (await stat(out)).size;
    console.log(`| DuckDB ${codec.toUpperCase()} level ${level} | ${b(n)} | ${(n / otlpZstd).toFixed(3)} | ${(((c.user + c.system) / spans)).toFixed(2)} |`);
  }
}
await rm(dir, { recursive: true, force: true });

function timeWasm(): string {
  const c0 = process.cpuUsage();
  for (let i = 0; i < 3; i++) encode(sorted, layout.encodings);
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) / 3 / spans).toFixed(2);
}
