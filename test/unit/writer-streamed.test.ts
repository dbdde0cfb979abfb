/**
 * `encodeParquetStreamed` (src/parquet/writer.ts) hands a flush to wasm a slice at a time. Where a
 * slice is whole row groups (the traces layout) it must write the file the whole-table path writes —
 * every page byte for byte, the same footer — with or without a compression level. Where row
 * groups span slices (logs and metrics: 100,000-row groups), arrow-rs cuts the nested columns'
 * pages at other points (it counts a write's values, not its rows), so the files differ by a few
 * pages: they must read back as the same rows, at about the same size. Batches cut anywhere
 * must read back as the same rows too. It must fail
 * with a clear error and leave wasm usable, never close a short file; and `encodeFlush` must keep
 * two flushes on one thread apart (the second sorts into the same arena, so it has to wait for
 * the first's encoding).
 *
 * "The same file" is test/helpers/parquet-bytes.ts's: the footer compared decoded, with the
 * key-value entries as a set (their order differs from one wasm writer to the next).
 */
import type { RecordBatch } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import * as wasm from 'parquet-wasm/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { logRequests, metricRequests } from '../../bench/load/logs-metrics.js';
import { traceRequests } from '../../bench/load/traces.js';
import { defaultConfig } from '../../src/config/index.js';
import { S3ParquetError } from '../../src/errors.js';
import { FOOTER_KEYS } from '../../src/parquet/contract.js';
import { prepareCompressors } from '../../src/parquet/compressors.js';
import { encodeParquet, encodeParquetStreamed, layoutWriterOptions, STREAM_SLICE_ROWS, streamSliceRows, type ParquetWriterOptions } from '../../src/parquet/writer.js';
import { convertLogsWire } from '../../src/pipeline/convert-logs-wire.js';
import { convertMetricsWire } from '../../src/pipeline/convert-metrics-wire.js';
import { convertTracesWire } from '../../src/pipeline/convert-traces-wire.js';
import { encodeFlush, type EncodePlan } from '../../src/pipeline/encode-flush.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { DATASETS, promotedSpecs, type DatasetName } from '../../src/schema/datasets.js';
import { arrayBuffer, expectSameChunks, expectSameFile, json } from '../helpers/parquet-bytes.js';

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = promotedSpecs(defaultConfig());
const BASE: ParquetWriterOptions = { compression: 'ZSTD', rowGroupSize: 100_000, pageSize: 65_536, dictionaryEnabled: true, statisticsEnabled: true };

/** A dataset's bench load, converted and sorted as a flush sorts it. */
function sortedLoad(dataset: DatasetName): RecordBatch {
  const batches: RecordBatch[] = [];
  if (dataset === 'traces') for (const p of traceRequests(11, 40, 512)) batches.push(...convertTracesWire(p, partitioner, promoted.traces, 1n).groups.map((g) => g.batch));
  if (dataset === 'logs') for (const p of logRequests(12, 40, 512)) batches.push(...convertLogsWire(p, partitioner, promoted.logs, 1n).groups.map((g) => g.batch));
  if (dataset === 'metrics') for (const p of metricRequests(13, 30, 100)) batches.push(...convertMetricsWire(p, partitioner, promoted.metrics, 1n).groups.map((g) => g.batch));
  return sortBatches(batches, DATASETS[dataset].storage.sortBy);
}

const readRows = (file: Uint8Array) => parquetReadObjects({ file: arrayBuffer(file), compressors });

/** Cuts a batch at uneven points, as the buffers' slices arrive. */
function cutUnevenly(batch: RecordBatch): RecordBatch[] {
  const out: RecordBatch[] = [];
  let at = 0;
  for (const n of [1, 5000, 9001, 3]) {
    out.push(batch.slice(at, Math.min(batch.numRows, at + n)));
    at += n;
  }
  out.push(batch.slice(at));
  return out.filter((b) => b.numRows > 0);
}

const loads = new Map<DatasetName, RecordBatch>();
beforeAll(async () => {
  await prepareCompressors();
  for (const d of ['traces', 'logs', 'metrics'] as const) loads.set(d, sortedLoad(d));
}, 120_000);

describe('encodeParquetStreamed', () => {
  it('holds a slice in wasm, not the flush (runs first: wasm memory only grows)', async () => {
    const traces = loads.get('traces')!;
    const flush = Array<RecordBatch>(6).fill(traces); // 122,880 rows, ~80 MiB of Arrow
    const options = layoutWriterOptions(BASE, DATASETS.traces.storage);
    const mib = () => wasm.wasmMemory().buffer.byteLength / 2 ** 20;
    const start = mib();
    for (let i = 0; i < 3; i++) await encodeParquetStreamed(flush, new Map(), options);
    const streamed = mib();
    encodeParquet(flush, new Map(), options);
    const whole = mib();
    expect(streamed - start).toBeLessThan(48);
    expect(whole - start).toBeGreaterThan(3 * (streamed - start));
  });

  for (const dataset of ['traces', 'logs', 'metrics'] as const) {
    it(`writes the whole-table path's rows for ${dataset} (daemon layout, one sorted batch, several slices)`, async () => {
      const sorted = loads.get(dataset)!;
      const options = layoutWriterOptions(BASE, DATASETS[dataset].storage);
      const metadata = new Map([[FOOTER_KEYS.dataset, dataset], [FOOTER_KEYS.rowCount, String(sorted.numRows)]]);
      const whole = encodeParquet([sorted], metadata, options);
      // Slices of 8,192 rows (the default, given here as the test's premise).
      let yields = 0;
      const streamed = await encodeParquetStreamed([sorted], metadata, options, {
        sliceRows: 8192,
        between: async () => {
          yields++;
        },
      });
      if (8192 % options.rowGroupSize === 0) expectSameFile(streamed, whole);
      else expect(Math.abs(streamed.length / whole.length - 1)).toBeLessThan(0.02);
      expect(json(await readRows(streamed))).toBe(json(await readRows(whole)));
      const meta = parquetMetadata(arrayBuffer(streamed));
      expect(Number(meta.num_rows)).toBe(sorted.numRows);
      expect(meta.row_groups.length).toBe(Math.ceil(sorted.numRows / options.rowGroupSize));
      expect(meta.key_value_metadata?.find((kv) => kv.key === FOOTER_KEYS.dataset)?.value).toBe(dataset);
      // The caller's hook runs between slices.
      expect(yields).toBe(Math.ceil(sorted.numRows / 8192) - 1);
    });

    it(`reads back the same ${dataset} rows from batches cut anywhere`, async () => {
      const sorted = loads.get(dataset)!;
      const options = layoutWriterOptions(BASE, DATASETS[dataset].storage);
      const cut = cutUnevenly(sorted);
      const whole = await readRows(encodeParquet(cut, new Map(), options));
      const streamed = await readRows(await encodeParquetStreamed(cut, new Map(), options, { sliceRows: 8192 }));
      expect(streamed.length).toBe(sorted.numRows);
      expect(json(streamed)).toBe(json(whole));
    });
  }

  it('cuts default slices of whole traces row groups: the same file over several slices', async () => {
    const traces = loads.get('traces')!;
    const options = layoutWriterOptions(BASE, DATASETS.traces.storage);
    const sliceRows = streamSliceRows(options.rowGroupSize);
    expect(sliceRows % options.rowGroupSize).toBe(0);
    expect(sliceRows).toBeLessThanOrEqual(STREAM_SLICE_ROWS);
    expect(streamSliceRows(100_000)).toBe(STREAM_SLICE_ROWS);
    expect(streamSliceRows(1000)).toBe(1000 * Math.floor(STREAM_SLICE_ROWS / 1000));
    const flush = sortBatches([traces, traces], DATASETS.traces.storage.sortBy); // 40,960 rows
    let yields = 0;
    const streamed = await encodeParquetStreamed([flush], new Map(), options, {
      between: async () => {
        yields++;
      },
    });
    expect(yields).toBe(Math.ceil(flush.numRows / sliceRows) - 1);
    expect(yields).toBeGreaterThanOrEqual(2);
    expectSameFile(streamed, encodeParquet([flush], new Map(), options));
  });

  it('writes the same traces file with a compression level (pages recompressed after wasm)', async () => {
    const sorted = loads.get('traces')!;
    const options = { ...layoutWriterOptions(BASE, DATASETS.traces.storage), compressionLevel: 6 };
    const whole = encodeParquet([sorted], new Map(), options);
    const streamed = await encodeParquetStreamed([sorted], new Map(), options);
    expectSameFile(streamed, whole);
    expect(whole.length).not.toBe(encodeParquet([sorted], new Map(), layoutWriterOptions(BASE, DATASETS.traces.storage)).length);
  });

  it('fails with PARQUET_WRITE_FAILED on batches of different schemas, and wasm still works after', async () => {
    const traces = loads.get('traces')!;
    const logs = loads.get('logs')!;
    const options = layoutWriterOptions(BASE, DATASETS.traces.storage);
    const error = await encodeParquetStreamed([traces.slice(0, 100), logs.slice(0, 100)], new Map(), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3ParquetError);
    expect((error as S3ParquetError).code).toBe('PARQUET_WRITE_FAILED');
    expect((error as Error).message).toMatch(/^encoding Parquet failed: .*schemas/);
    const again = await encodeParquetStreamed([traces.slice(0, 100)], new Map(), options);
    expectSameFile(again, encodeParquet([traces.slice(0, 100)], new Map(), options));
  });

  it('fails with the error when a slice cannot be handed over, rather than closing a short file', async () => {
    const sorted = loads.get('traces')!;
    const options = layoutWriterOptions(BASE, DATASETS.traces.storage);
    const error = await encodeParquetStreamed([sorted], new Map(), options, { sliceRows: 8192, between: () => Promise.reject(new Error('stopped')) }).catch((e: unknown) => e);
    expect((error as S3ParquetError).code).toBe('PARQUET_WRITE_FAILED');
    expect((error as Error).message).toContain('stopped');
  });

  it('writes an empty file for no rows, as the whole-table path does', async () => {
    const empty = loads.get('logs')!.slice(0, 0);
    const options = layoutWriterOptions(BASE, DATASETS.logs.storage);
    const streamed = await encodeParquetStreamed([empty], new Map(), options);
    expectSameFile(streamed, encodeParquet([empty], new Map(), options));
  });
});

describe('encodeFlush on one thread', () => {
  it('encodes two flushes started together as it encodes each alone (the second waits for the first)', async () => {
    const traces = loads.get('traces')!;
    const plan = (maxRows: number): EncodePlan => ({
      head: [[FOOTER_KEYS.dataset, 'traces']],
      writer: 'test',
      parquet: layoutWriterOptions(BASE, DATASETS.traces.storage),
      sortBy: DATASETS.traces.storage.sortBy,
      maxRows,
      bloomColumn: 'trace_id',
      indexColumn: 'trace_id',
    });
    // Reversed halves: each flush must sort, and both sort into the thread's one arena.
    const a = [traces.slice(10_000), traces.slice(0, 10_000)];
    const b = [traces.slice(5_000, 15_000)];
    const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));
    const alone = [await encodeFlush(a, plan(12_000), yieldNow), await encodeFlush(b, plan(4_000), yieldNow)];
    const together = await Promise.all([encodeFlush(a, plan(12_000), yieldNow), encodeFlush(b, plan(4_000), yieldNow)]);
    for (let f = 0; f < 2; f++) expectSameChunks(together[f]!, alone[f]!);
    expect(alone[0]!.length).toBe(Math.ceil(traces.numRows / 12_000));
  });

  it('goes on with the next flush after one fails', async () => {
    const traces = loads.get('traces')!;
    const logs = loads.get('logs')!;
    const plan: EncodePlan = { head: [], writer: 'test', parquet: layoutWriterOptions(BASE, DATASETS.traces.storage), sortBy: [], maxRows: 100_000 };
    const failing = encodeFlush([traces.slice(0, 50), logs.slice(0, 50)], plan);
    const next = encodeFlush([traces.slice(0, 50)], plan);
    await expect(failing).rejects.toThrow(/encoding Parquet failed/);
    expect((await next)[0]!.rows).toBe(50);
  });
});
