/**
 * `[parquet] compression_level`: parquet-wasm writes the pages uncompressed and
 * src/parquet/recompress.ts compresses them at the level. On the bench's realistic trace load,
 * through the pipeline's converter, sort and traces storage layout, every level writes a file
 * DuckDB and hyparquet (the query port's reader) read with the values of today's file, with the
 * same footer key-value metadata, schema, statistics and page index; a higher level writes fewer
 * bytes; a level the codec does not take is a clear config error.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects, readColumnIndex, readOffsetIndex, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceRequests } from '../../bench/load/traces.js';
import { ConfigError, parseConfigText } from '../../src/config/index.js';
import { ParquetConfig, S3Config } from '../../src/library/configs.js';
import { ParquetSchema } from '../../src/parquet/schema.js';
import { S3ParquetConnector } from '../../src/library/connector.js';
import { decodeRequest } from '../../src/otlp/decode.js';
import { buildFileIndex, FOOTER_KEYS } from '../../src/parquet/contract.js';
import { prepareCompressors } from '../../src/parquet/compressors.js';
import { encodeParquet, type CompressionName, type ParquetWriterOptions } from '../../src/parquet/writer.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { EncodePool, InThreadEncoder } from '../../src/pipeline/encode-pool.js';
import type { EncodePlan } from '../../src/pipeline/encode-flush.js';
import { DATASETS } from '../../src/schema/datasets.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { duckdbQuery } from '../helpers/duckdb.js';

const layout = DATASETS.traces.storage;
const BASE: ParquetWriterOptions = {
  compression: 'ZSTD',
  rowGroupSize: layout.rowGroupRows ?? 100_000,
  pageSize: layout.pageBytes ?? 65_536,
  dictionaryEnabled: true,
  statisticsEnabled: true,
  columnEncodings: layout.encodings,
  ...(layout.writeBatchRows ? { writeBatchRows: layout.writeBatchRows } : {}),
};

let dir: string;
let sorted: RecordBatch;
let metadata: Map<string, string>;
let reference: Uint8Array;
let refPath: string;

beforeAll(async () => {
  await prepareCompressors();
  dir = await mkdtemp(join(tmpdir(), 'compression-level-'));
  const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
  const promoted = ['http.request.method', 'http.response.status_code', 'url.path'].map(parsePromoted);
  const batches: RecordBatch[] = [];
  for (const p of traceRequests(7, 16, 512)) for (const g of convertTraces(decodeRequest('traces', 'protobuf', p) as never, partitioner, promoted).groups) batches.push(g.batch);
  sorted = sortBatches(batches, layout.sortBy);
  const ids: string[] = [];
  for (let i = 0; i < sorted.numRows; i++) ids.push(sorted.getChild('trace_id')!.get(i) as string);
  metadata = new Map([
    [FOOTER_KEYS.dataset, 'traces'],
    [FOOTER_KEYS.rowCount, String(sorted.numRows)],
    [FOOTER_KEYS.traceIdBloom, buildFileIndex('trace_id', ids).encoded],
  ]);
  reference = encodeParquet([sorted], metadata, BASE);
  refPath = join(dir, 'reference.parquet');
  await writeFile(refPath, reference);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const buffer = (u: Uint8Array): ArrayBuffer => u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
const pairs = (m: FileMetaData) => [...(m.key_value_metadata ?? [])].sort((a, b) => (a.key < b.key ? -1 : 1));
const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/** Per column chunk: what readers use to prune and locate (stats, encodings, page index) minus byte positions. */
function chunkFacts(bytes: Uint8Array, meta: FileMetaData): unknown[] {
  const out: unknown[] = [];
  for (const rg of meta.row_groups) {
    for (const c of rg.columns) {
      const m = c.meta_data!;
      const schema = meta.schema.find((s) => s.name === m.path_in_schema.at(-1))!;
      const columnIndex = c.column_index_offset !== undefined ? readColumnIndex({ view: new DataView(buffer(bytes.subarray(Number(c.column_index_offset), Number(c.column_index_offset) + c.column_index_length!))), offset: 0 }, schema) : undefined;
      const offsetIndex = c.offset_index_offset !== undefined ? readOffsetIndex({ view: new DataView(buffer(bytes.subarray(Number(c.offset_index_offset), Number(c.offset_index_offset) + c.offset_index_length!))), offset: 0 }) : undefined;
      out.push([m.path_in_schema, m.encodings, m.num_values, m.statistics, m.encoding_stats, rg.num_rows, columnIndex, offsetIndex?.page_locations.map((p) => p.first_row_index)]);
    }
  }
  return out;
}

const VARIANTS: [CompressionName, number][] = [
  ['ZSTD', 1],
  ['ZSTD', 3],
  ['ZSTD', 19],
  ['GZIP', 1],
  ['GZIP', 9],
  ['BROTLI', 0],
  ['BROTLI', 6],
];

describe('compression levels on the realistic trace load', () => {
  const sizes = new Map<string, number>();

  it.each(VARIANTS)('%s level %i: DuckDB and hyparquet read the same values, footer and page index', async (codec, level) => {
    const bytes = encodeParquet([sorted], metadata, { ...BASE, compression: codec, compressionLevel: level });
    sizes.set(`${codec}-${level}`, bytes.length);
    const path = join(dir, `${codec}-${level}.parquet`);
    await writeFile(path, bytes);

    const [diff] = await duckdbQuery(
      `SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet('${refPath}') EXCEPT ALL SELECT * FROM read_parquet('${path}')))
            + (SELECT count(*) FROM (SELECT * FROM read_parquet('${path}') EXCEPT ALL SELECT * FROM read_parquet('${refPath}'))) AS d,
              (SELECT count(*) FROM read_parquet('${path}')) AS n,
              (SELECT list(DISTINCT compression) FROM parquet_metadata('${path}')) AS codecs`,
    );
    expect(diff).toEqual({ d: '0', n: String(sorted.numRows), codecs: [codec] });

    const meta = parquetMetadata(buffer(bytes));
    const ref = parquetMetadata(buffer(reference));
    expect(pairs(meta)).toEqual(pairs(ref));
    expect(json(meta.schema)).toBe(json(ref.schema));
    expect(meta.num_rows).toBe(ref.num_rows);
    expect(json(chunkFacts(bytes, meta))).toBe(json(chunkFacts(reference, ref)));

    const rows = await parquetReadObjects({ file: buffer(bytes), compressors, columns: ['trace_id', 'span_id', 'start_time', 'attributes', 'events'] });
    const refRows = await parquetReadObjects({ file: buffer(reference), compressors, columns: ['trace_id', 'span_id', 'start_time', 'attributes', 'events'] });
    expect(json(rows)).toBe(json(refRows));
  }, 120_000);

  it('a higher level writes fewer bytes', () => {
    expect(sizes.get('ZSTD-19')!).toBeLessThan(sizes.get('ZSTD-1')!);
    expect(sizes.get('GZIP-9')!).toBeLessThan(sizes.get('GZIP-1')!);
    expect(sizes.get('BROTLI-6')!).toBeLessThan(sizes.get('BROTLI-0')!);
  });

  it('unset keeps parquet-wasm compressing (the default path): ZSTD chunks, no recompression', async () => {
    const [row] = await duckdbQuery(`SELECT list(DISTINCT compression) AS codecs FROM parquet_metadata('${refPath}')`);
    expect(row).toEqual({ codecs: ['ZSTD'] });
  });

  it('a level with a codec that takes none is a write error naming the codec', () => {
    expect(() => encodeParquet([sorted.slice(0, 10)], new Map(), { ...BASE, compression: 'SNAPPY', compressionLevel: 3 })).toThrow(/SNAPPY takes no level/);
  });
});

describe('a level on the daemon encoders', () => {
  const pool = new EncodePool(1);
  afterAll(() => pool.close());

  it('an encode worker loads the compressor itself and writes what the event loop writes', async () => {
    const plan: EncodePlan = {
      head: [[FOOTER_KEYS.dataset, 'traces']],
      writer: 'compression-level test',
      parquet: { ...BASE, compression: 'ZSTD', compressionLevel: 9 },
      sortBy: layout.sortBy,
      maxRows: 3000,
      bloomColumn: 'trace_id',
      indexColumn: 'trace_id',
    };
    const batches = [sorted.slice(0, 5000)];
    const local = await new InThreadEncoder().encode(batches, plan);
    const remote = await pool.encode(batches, plan);
    expect(remote.map((c) => c.rows)).toEqual([3000, 2000]);
    for (let i = 0; i < local.length; i++) {
      expect(remote[i]!.index).toEqual(local[i]!.index);
      const [a, b] = [join(dir, `local-${i}.parquet`), join(dir, `remote-${i}.parquet`)];
      await writeFile(a, local[i]!.body);
      await writeFile(b, remote[i]!.body);
      const [row] = await duckdbQuery(
        `SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet('${a}') EXCEPT ALL SELECT * FROM read_parquet('${b}'))) AS d,
                (SELECT count(*) FROM read_parquet('${b}')) AS n,
                (SELECT list(DISTINCT compression) FROM parquet_metadata('${b}')) AS codecs`,
      );
      expect(row).toEqual({ d: '0', n: String(remote[i]!.rows), codecs: ['ZSTD'] });
    }
  }, 120_000);
});

describe('[parquet] compression_level config', () => {
  function configError(text: string): ConfigError {
    try {
      parseConfigText(text);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a ConfigError');
  }

  it('accepts a level in range for its codec, and is unset by default', () => {
    expect(parseConfigText('[parquet]\ncompression_level = 19').parquet.compression_level).toBe(19);
    expect(parseConfigText('[parquet]\ncompression = "gzip"\ncompression_level = 9').parquet.compression_level).toBe(9);
    expect(parseConfigText('[parquet]\ncompression = "brotli"\ncompression_level = 0').parquet.compression_level).toBe(0);
    expect(parseConfigText('').parquet.compression_level).toBeUndefined();
  });

  it.each([
    ['compression_level = 23', 'expected a whole number between 1 and 22 for ZSTD'],
    ['compression_level = 0', 'expected a whole number between 1 and 22 for ZSTD'],
    ['compression = "GZIP"\ncompression_level = 10', 'expected a whole number between 1 and 9 for GZIP'],
    ['compression = "BROTLI"\ncompression_level = 12', 'expected a whole number between 0 and 11 for BROTLI'],
    ['compression = "SNAPPY"\ncompression_level = 3', 'SNAPPY takes no level'],
    ['compression_level = 2.5', 'expected a whole number'],
  ])('%s is a config error naming parquet.compression_level', (toml, message) => {
    const err = configError(`[parquet]\n${toml}`);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.path).toBe('parquet.compression_level');
    expect(err.issues[0]!.message).toContain(message);
  });

  it('the library writes with the level: BROTLI 5 column chunks, the same values read back', async () => {
    const connector = new S3ParquetConnector(S3Config.local(join(dir, 'lib')), ParquetConfig.create().withCompression('brotli').withCompressionLevel(5));
    try {
      const schema = ParquetSchema.empty().withField('id', 'string', false).withField('n', 'int64', false);
      const records = Array.from({ length: 500 }, (_, i) => ({ id: `id-${i % 37}`, n: BigInt(i) }));
      await connector.write({ schema, records, partitionPath: 'events', fileName: 'one.parquet' });
      const path = join(dir, 'lib', 'events', 'one.parquet');
      const [row] = await duckdbQuery(`SELECT count(*) AS n, sum(n)::VARCHAR AS s, (SELECT list(DISTINCT compression) FROM parquet_metadata('${path}')) AS codecs FROM read_parquet('${path}')`);
      expect(row).toEqual({ n: '500', s: String((499 * 500) / 2), codecs: ['BROTLI'] });
    } finally {
      await connector.close();
    }
  }, 60_000);

  it('the library: ParquetConfig.withCompressionLevel sets the key, and a bad level fails the connector', () => {
    expect(ParquetConfig.create().withCompression('gzip').withCompressionLevel(9).toDocument()).toEqual({ parquet: { compression: 'GZIP', compression_level: 9 } });
    const bad = () => new S3ParquetConnector(S3Config.local(dir), ParquetConfig.create().withCompression('gzip').withCompressionLevel(10));
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/parquet\.compression_level: expected a whole number between 1 and 9 for GZIP/);
  });
});
