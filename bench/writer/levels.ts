/**
 * `npx tsx bench/writer/levels.ts [--quick] [--hyparquet-writer] [--skip-levels]`: bytes and write CPU per span of
 * the traces files at each `[parquet] compression` / `compression_level`, on the bench's
 * realistic trace load (bench/load/traces.ts, 64 requests × 512 spans) through the pipeline's
 * converter, sort and traces storage layout (8,192-row groups, its page bytes and encodings).
 *
 * Each file is checked against today's (parquet-wasm ZSTD, no level): DuckDB reads identical
 * rows (EXCEPT ALL both ways) and the footer key-value metadata, schema, row groups' statistics
 * and page index are the same. The ratio is to the same requests as OTLP protobuf + zstd(3)
 * (bench/storage.ts's measure). `--hyparquet-writer` also times hyparquet-writer 0.17.0 (if
 * installed, `npm i --no-save hyparquet-writer@0.17.0`, or
 * HYPARQUET_WRITER=/path/to/its/src/index.js) on the file's flat top-level columns.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress as zstdCompress } from '@bokuweb/zstd-wasm';
import { DuckDBInstance } from '@duckdb/node-api';
import { Table, type RecordBatch } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { buildFileIndex, FOOTER_KEYS } from '../../src/parquet/contract.js';
import { prepareCompressors, zstdImplementation } from '../../src/parquet/compressors.js';
import { encodeParquet, type CompressionName, type ParquetWriterOptions } from '../../src/parquet/writer.js';
import { DATASETS } from '../../src/schema/datasets.js';
import { sortedBenchTraces } from '../load/sorted-traces.js';

const quick = process.argv.includes('--quick');
const { payloads, spans, sorted } = sortedBenchTraces();
// One wasm instance per process: prepareCompressors loads it for the OTLP baseline too.
await prepareCompressors();
const otlpZstd = payloads.reduce((n, p) => n + zstdCompress(Buffer.from(p), 3).length, 0);
const layout = DATASETS.traces.storage;
const traceIds: string[] = [];
for (let i = 0; i < sorted.numRows; i++) traceIds.push(sorted.getChild('trace_id')!.get(i) as string);
const metadata = new Map([
  [FOOTER_KEYS.dataset, 'traces'],
  [FOOTER_KEYS.rowCount, String(sorted.numRows)],
  [FOOTER_KEYS.traceIdBloom, buildFileIndex('trace_id', traceIds).encoded],
]);
// The daemon's defaults ([parquet] row_group_size 100k, page_size 1 MiB) under the traces layout.
const base: ParquetWriterOptions = {
  compression: 'ZSTD',
  rowGroupSize: Math.min(100_000, layout.rowGroupRows ?? Infinity),
  pageSize: Math.min(1 << 20, layout.pageBytes ?? Infinity),
  dictionaryEnabled: true,
  statisticsEnabled: true,
  columnEncodings: layout.encodings,
  ...(layout.writeBatchRows ? { writeBatchRows: layout.writeBatchRows } : {}),
};

function cpuMicros(run: () => void, times: number): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    best = Math.min(best, c.user + c.system);
  }
  return best;
}

const variants: [string, CompressionName, number | undefined][] = [
  ['parquet-wasm ZSTD (today: level 1, fixed)', 'ZSTD', undefined],
  ['parquet-wasm UNCOMPRESSED', 'UNCOMPRESSED', undefined],
  ...[1, 3, 6, 9, 12, 19].map((l) => [`ZSTD level ${l}`, 'ZSTD', l] as [string, CompressionName, number]),
  ['parquet-wasm GZIP (its default, 6)', 'GZIP', undefined],
  ...[1, 6, 9].map((l) => [`GZIP level ${l}`, 'GZIP', l] as [string, CompressionName, number]),
  ...[1, 4, 9].map((l) => [`BROTLI level ${l}`, 'BROTLI', l] as [string, CompressionName, number]),
];
const dir = await mkdtemp(join(tmpdir(), 's3pq-writer-'));
const duck = await (await DuckDBInstance.create(':memory:')).connect();
await duck.run('SET threads = 1');
const times = quick ? 1 : 3;
const reference = encodeParquet([sorted], metadata, base);
const refPath = join(dir, 'ref.parquet');
await writeFile(refPath, reference);
const refMeta = footer(reference);
const fmt = (n: number) => (n / spans).toFixed(2);
console.log(`## Traces write CPU and bytes per span by codec and level (${spans.toLocaleString('en')} spans; ZSTD via ${zstdImplementation()}; Node ${process.version})\n`);
console.log(`OTLP protobuf + zstd(3) of the same requests: ${fmt(otlpZstd)} B/span\n`);
console.log('| writer, codec, level | CPU µs/span | × today | B/span | vs today | ÷ OTLP+zstd | DuckDB rows, footer, page index |');
console.log('|---|---|---|---|---|---|---|');
let todayCpu = 0;
for (const [name, compression, level] of process.argv.includes('--skip-levels') ? [] : variants) {
  const options: ParquetWriterOptions = { ...base, compression, ...(level === undefined ? {} : { compressionLevel: level }) };
  let bytes: Uint8Array = new Uint8Array();
  const cpu = cpuMicros(() => {
    bytes = encodeParquet([sorted], metadata, options);
  }, level !== undefined && level >= 12 ? 1 : times);
  if (todayCpu === 0) todayCpu = cpu;
  const path = join(dir, `${compression}-${level ?? 'default'}.parquet`);
  await writeFile(path, bytes);
  const check = await same(path, bytes);
  console.log(`| ${name} | ${(cpu / spans).toFixed(2)} | ${(cpu / todayCpu).toFixed(2)} | ${fmt(bytes.length)} | ${((bytes.length / reference.length - 1) * 100).toFixed(1)} % | ${(bytes.length / otlpZstd).toFixed(3)} | ${check} |`);
}

// Levels against the schema lever (issue 19, bytes): end_time derived (start_time + duration_ns)
// instead of stored, bytes only (a schema v2 the readers would derive it in).
{
  const t = new Table(sorted);
  const noEnd = t.select(t.schema.fields.map((f) => f.name).filter((n) => n !== 'end_time')).batches[0]!;
  console.log('\n| end_time not stored, codec, level | B/span | vs today | ÷ OTLP+zstd |\n|---|---|---|---|');
  for (const [compression, level] of [['ZSTD', undefined], ['ZSTD', 12], ['ZSTD', 19], ['BROTLI', 4]] as [CompressionName, number | undefined][]) {
    const n = encodeParquet([noEnd], metadata, { ...base, compression, ...(level === undefined ? {} : { compressionLevel: level }) }).length;
    console.log(`| ${compression} ${level ?? '(parquet-wasm, level 1)'} | ${fmt(n)} | ${((n / reference.length - 1) * 100).toFixed(1)} % | ${(n / otlpZstd).toFixed(3)} |`);
  }
}

if (process.argv.includes('--hyparquet-writer')) await hyparquetWriter();
await rm(dir, { recursive: true, force: true });

function footer(bytes: Uint8Array) {
  return parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

/** DuckDB reads the same rows as the reference, and the footer says the same apart from sizes. */
async function same(path: string, bytes: Uint8Array): Promise<string> {
  const diff = await duck.runAndReadAll(
    `SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet('${refPath}') EXCEPT ALL SELECT * FROM read_parquet('${path}'))) + (SELECT count(*) FROM (SELECT * FROM read_parquet('${path}') EXCEPT ALL SELECT * FROM read_parquet('${refPath}'))) AS d, (SELECT count(*) FROM read_parquet('${path}')) AS n`,
  );
  const [d, n] = diff.getRows()[0]!;
  const meta = footer(bytes);
  // parquet-wasm writes the key-value pairs in hash-map order, which differs between calls.
  const pairs = (m: typeof meta) => JSON.stringify([...(m.key_value_metadata ?? [])].sort((x, y) => (x.key < y.key ? -1 : 1)));
  const kv = pairs(meta) === pairs(refMeta);
  const schema = JSON.stringify(meta.schema) === JSON.stringify(refMeta.schema);
  const strip = (m: typeof meta) =>
    JSON.stringify(
      m.row_groups.map((rg) => rg.columns.map((c) => [c.meta_data!.path_in_schema, c.meta_data!.encodings, c.meta_data!.num_values, c.meta_data!.statistics, c.column_index_length, c.offset_index_offset !== undefined])),
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    );
  const stats = strip(meta) === strip(refMeta);
  return `${Number(d) === 0 && Number(n) === spans ? 'same rows' : `DIFF ${d} rows`}, ${kv && schema ? 'same footer' : 'FOOTER DIFFERS'}, ${stats ? 'same stats/encodings/indexes' : 'STATS DIFFER'}`;
}

/** hyparquet-writer on the flat top-level columns only (a lower bound of its cost on our files). */
async function hyparquetWriter(): Promise<void> {
  let mod: { parquetWriteBuffer: (o: Record<string, unknown>) => ArrayBuffer };
  try {
    mod = (await import(process.env.HYPARQUET_WRITER ?? 'hyparquet-writer')) as typeof mod;
  } catch {
    console.log('\nhyparquet-writer is not installed (npm i --no-save hyparquet-writer@0.17.0)');
    return;
  }
  const flat = sorted.schema.fields.filter((f) => f.type.children === null || f.type.children.length === 0);
  const columnData = flat.map((f) => {
    const data = sorted.getChild(f.name)!.toArray() as ArrayLike<unknown>;
    const enc = layout.encodings[f.name];
    return { name: f.name, data: Array.isArray(data) ? data : Array.from(data as ArrayLike<unknown>), ...(enc && enc !== 'DELTA_LENGTH_BYTE_ARRAY' ? { encoding: enc } : {}), columnIndex: true };
  });
  const names = new Set(flat.map((f) => f.name));
  const flatBatch = new Table(sorted).select([...names]).batches[0]!;
  const wasmFlat = encodeParquet([flatBatch], metadata, base);
  const wasmCpu = cpuMicros(() => encodeParquet([flatBatch], metadata, base), times);
  for (const level of [1, 9]) {
    let out = new ArrayBuffer(0);
    const cpu = cpuMicros(() => {
      out = mod.parquetWriteBuffer({ columnData, codec: 'ZSTD', compressors: { ZSTD: (b: Uint8Array) => zstdCompress(b, level) }, rowGroupSize: 8192, pageSize: base.pageSize });
    }, times);
    console.log(`\nhyparquet-writer 0.17.0, ${flat.length} flat columns, ZSTD ${level}: ${(cpu / spans).toFixed(2)} µs/span, ${fmt(out.byteLength)} B/span (JS values already built; parquet-wasm ZSTD 1 on the same columns: ${(wasmCpu / spans).toFixed(2)} µs/span, ${fmt(wasmFlat.length)} B/span)`);
  }
}
