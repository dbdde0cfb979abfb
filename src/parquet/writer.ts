/**
 * Arrow record batches → one Parquet file, with the writer properties from `[parquet]` and
 * our footer key-value metadata.
 *
 * parquet-wasm consumes the wasm Table it is given and its memory never shrinks, so callers
 * hand it bounded chunks (see `MAX_ROWS_PER_FILE`) to keep the high-water mark flat.
 */
import { Table, type RecordBatch } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { S3ParquetError } from '../errors.js';
import { ipcStreamScratch } from './ipc-scratch.js';
import { levelCompressor } from './compressors.js';
import { levelProblem, takesLevel } from './levels.js';
import { recompressPages } from './recompress.js';
import type { ColumnEncoding, StorageLayout } from './storage-layout.js';

export type CompressionName = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'LZ4' | 'ZSTD' | 'BROTLI';

export interface ParquetWriterOptions {
  readonly compression: CompressionName;
  /**
   * The codec's level (`[parquet] compression_level`; ZSTD 1–22, GZIP 1–9, BROTLI 0–11).
   * Unset: parquet-wasm compresses at its own default (ZSTD 1). Set: parquet-wasm writes the
   * pages uncompressed and `recompress.ts` compresses them at this level — same pages, same
   * footer, only the compressor differs (a ZSTD level needs `prepareCompressors()` first).
   */
  readonly compressionLevel?: number;
  readonly rowGroupSize: number;
  readonly pageSize: number;
  readonly dictionaryEnabled: boolean;
  readonly statisticsEnabled: boolean;
  readonly createdBy?: string;
  /** Rows handed to the page encoder at a time (a dataset's `StorageLayout.writeBatchRows`); parquet-rs's default otherwise. */
  readonly writeBatchRows?: number;
  /**
   * Top-level columns written without a dictionary, in the given encoding (a dataset's
   * `StorageLayout.encodings`). Names absent from the schema are ignored.
   */
  readonly columnEncodings?: Readonly<Record<string, ColumnEncoding>>;
}

/**
 * The `[parquet]` writer options narrowed by a dataset's layout: its encodings, and its row
 * groups and pages where smaller than the configured ones. The daemon's flushes and the benches
 * that measure its files write with this.
 */
export function layoutWriterOptions(base: ParquetWriterOptions, layout: StorageLayout): ParquetWriterOptions {
  return {
    ...base,
    columnEncodings: layout.encodings,
    rowGroupSize: Math.min(base.rowGroupSize, layout.rowGroupRows ?? Number.POSITIVE_INFINITY),
    pageSize: Math.min(base.pageSize, layout.pageBytes ?? Number.POSITIVE_INFINITY),
    ...(layout.writeBatchRows ? { writeBatchRows: layout.writeBatchRows } : {}),
  };
}

/** Upper bound of rows handed to parquet-wasm at once (DESIGN.md: ~100k keeps wasm memory flat). */
export const MAX_ROWS_PER_FILE = 100_000;

const CODECS: Record<CompressionName, wasm.Compression> = {
  UNCOMPRESSED: wasm.Compression.UNCOMPRESSED,
  SNAPPY: wasm.Compression.SNAPPY,
  GZIP: wasm.Compression.GZIP,
  // Parquet deprecated the framed LZ4 codec; LZ4_RAW is what current readers expect.
  LZ4: wasm.Compression.LZ4_RAW,
  ZSTD: wasm.Compression.ZSTD,
  BROTLI: wasm.Compression.BROTLI,
};

const ENCODINGS: Record<ColumnEncoding, wasm.Encoding> = {
  PLAIN: wasm.Encoding.PLAIN,
  DELTA_BINARY_PACKED: wasm.Encoding.DELTA_BINARY_PACKED,
  DELTA_LENGTH_BYTE_ARRAY: wasm.Encoding.DELTA_LENGTH_BYTE_ARRAY,
  DELTA_BYTE_ARRAY: wasm.Encoding.DELTA_BYTE_ARRAY,
  BYTE_STREAM_SPLIT: wasm.Encoding.BYTE_STREAM_SPLIT,
};

function writerProperties(options: ParquetWriterOptions, metadata: ReadonlyMap<string, string>, columns: ReadonlySet<string>, codec: CompressionName): wasm.WriterProperties {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(CODECS[codec])
    .setMaxRowGroupSize(options.rowGroupSize)
    .setDataPageSizeLimit(options.pageSize)
    .setDictionaryEnabled(options.dictionaryEnabled)
    .setStatisticsEnabled(options.statisticsEnabled ? wasm.EnabledStatistics.Page : wasm.EnabledStatistics.None)
    .setKeyValueMetadata(new Map(metadata));
  if (options.createdBy) b = b.setCreatedBy(options.createdBy);
  if (options.writeBatchRows) b = b.setWriteBatchSize(options.writeBatchRows);
  for (const [column, encoding] of Object.entries(options.columnEncodings ?? {})) {
    // With a dictionary the encoding would only be its fallback once the dictionary is full.
    if (columns.has(column)) b = b.setColumnDictionaryEnabled(column, false).setColumnEncoding(column, ENCODINGS[encoding]);
  }
  return b.build();
}

/** Encodes batches (all of one schema) as a Parquet file, the whole table in wasm at once. */
export function encodeParquet(
  batches: readonly RecordBatch[],
  metadata: ReadonlyMap<string, string>,
  options: ParquetWriterOptions,
): Uint8Array {
  try {
    const arrow = new Table(batches as RecordBatch[]);
    const columns = new Set(arrow.schema.fields.map((f) => f.name));
    // The IPC bytes are a view of a reused buffer, copied into wasm here at once.
    const table = wasm.Table.fromIPCStream(ipcStreamScratch(arrow));
    const { codec, finish } = compressionPlan(options);
    return finish(wasm.writeParquet(table, writerProperties(options, metadata, columns, codec)));
  } catch (err) {
    throw writeFailed(err);
  }
}

/**
 * Rows handed to wasm at a time by `encodeParquetStreamed`, about: the traces layout's row group,
 * ~5 MiB of Arrow for spans; wasm holds ~33 MiB for a 100,000-span file (~45 MiB for logs and
 * metrics) instead of ~130–230. Each slice costs a hand-off (its IPC stream written and read, a
 * writer call): a logs or metrics flush's encode alone is ~15–25 % dearer than in one piece. Slices
 * of 32,768 rows halved that but held ~95 MiB of wasm, and the daemon's CPU per record did not
 * change beyond the noise (bench/NOTES.md): memory decided.
 */
export const STREAM_SLICE_ROWS = 8192;

/**
 * A slice is whole row groups where they are no bigger than `STREAM_SLICE_ROWS` (the traces
 * layout's are as big), so the file is the one `encodeParquet` writes; bigger row groups span
 * slices.
 */
export function streamSliceRows(rowGroupSize: number): number {
  return rowGroupSize >= STREAM_SLICE_ROWS ? STREAM_SLICE_ROWS : rowGroupSize * Math.floor(STREAM_SLICE_ROWS / rowGroupSize);
}

/**
 * Encodes batches as a Parquet file, handing them to wasm a slice at a time (parquet-wasm's
 * `transformParquetStream`, the same arrow-rs writer as `writeParquet`). Where a slice is whole
 * row groups (the traces layout) the file is `encodeParquet`'s, page for page; where row groups span
 * slices, arrow-rs cuts nested columns' pages at other points (it counts a write's values, not
 * its rows): the same rows, within ±0.1 % of the bytes (test/unit/writer-streamed.test.ts).
 * Wasm holds one slice and the pages encoded so far instead of the whole flush twice over (its
 * IPC bytes and its arrays). For a
 * 100,000-span flush that is ~33 MiB of wasm memory instead of ~130–190 MiB, memory that wasm
 * never gives back and that each encoding thread holds; and its first filling was ~40,000 page
 * faults of the daemon's first flush (bench/NOTES.md).
 *
 * `between` runs before each slice after the first: the event-loop encoder yields there, so a
 * flush encoded on the event loop lets requests in between slices. `sliceRows` overrides
 * `streamSliceRows` (tests, benches).
 */
export async function encodeParquetStreamed(
  batches: readonly RecordBatch[],
  metadata: ReadonlyMap<string, string>,
  options: ParquetWriterOptions,
  { between, sliceRows = streamSliceRows(options.rowGroupSize) }: { readonly between?: () => Promise<void>; readonly sliceRows?: number } = {},
): Promise<Uint8Array> {
  const slices = slicesOf(batches, sliceRows);
  // No rows: the stream would write no schema; the whole-table path writes an empty file.
  if (slices.length === 0) return encodeParquet(batches, metadata, options);
  // The stream's reader side swallows an error raised while it pulls (parquet-wasm then closes a
  // file of the slices so far), so a failure is kept here and thrown after it: never a short file.
  let failure: { readonly error: unknown } | undefined;
  try {
    // As the whole-table path: refuses batches of different schemas (the stream would not).
    const { schema } = new Table(slices);
    const columns = new Set(schema.fields.map((f) => f.name));
    const { codec, finish } = compressionPlan(options);
    let next = 0;
    const input = new ReadableStream<wasm.RecordBatch>(
      {
        async pull(controller) {
          try {
            if (next === slices.length) return controller.close();
            if (next > 0 && between) await between();
            controller.enqueue(toWasm(slices[next++]!));
          } catch (error) {
            failure = { error };
            controller.error(error);
          }
        },
      },
      // Pulled one slice at a time: nothing is queued in wasm ahead of the writer.
      { highWaterMark: 0 },
    );
    const output = (await wasm.transformParquetStream(input, writerProperties(options, metadata, columns, codec))) as ReadableStream<Uint8Array>;
    const file = await concat(output);
    if (failure) throw failure.error;
    return finish(file);
  } catch (err) {
    throw writeFailed(failure ? failure.error : err);
  }
}

/** One slice in wasm memory: its IPC stream copied in and read there. */
function toWasm(slice: RecordBatch): wasm.RecordBatch {
  const table = wasm.Table.fromIPCStream(ipcStreamScratch(new Table([slice])));
  try {
    return table.recordBatch(0)!; // shares the table's arrays (reference-counted), no copy
  } finally {
    table.free();
  }
}

/** The batches cut into slices of at most `rows` rows, empty batches left out. */
function slicesOf(batches: readonly RecordBatch[], rows: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (const b of batches) for (let at = 0; at < b.numRows; at += rows) out.push(at === 0 && b.numRows <= rows ? b : b.slice(at, Math.min(b.numRows, at + rows)));
  return out;
}

/** The stream's pieces joined (Node's `Buffer.concat`), as a plain Uint8Array. */
async function concat(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream as unknown as AsyncIterable<Uint8Array>) parts.push(part);
  const joined = Buffer.concat(parts);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.length);
}

/**
 * The codec parquet-wasm writes with, and what is done to its output: nothing, or, with a level,
 * pages written uncompressed and compressed by `recompress.ts` at that level.
 */
function compressionPlan(options: ParquetWriterOptions): { codec: CompressionName; finish: (file: Uint8Array) => Uint8Array } {
  const { compression, compressionLevel } = options;
  if (compressionLevel === undefined) return { codec: compression, finish: (file) => file };
  if (!takesLevel(compression)) throw new Error(levelProblem(compression, compressionLevel));
  const { codecId, compress } = levelCompressor(compression, compressionLevel);
  return { codec: 'UNCOMPRESSED', finish: (file) => recompressPages(file, codecId, compress) };
}

function writeFailed(err: unknown): S3ParquetError {
  return new S3ParquetError('PARQUET_WRITE_FAILED', `encoding Parquet failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** Splits batches into groups of at most `maxRows` rows, slicing a batch when needed. */
export function chunkBatches(batches: readonly RecordBatch[], maxRows: number): RecordBatch[][] {
  const chunks: RecordBatch[][] = [];
  let current: RecordBatch[] = [];
  let rows = 0;
  for (let batch of batches) {
    while (batch.numRows > 0) {
      const take = Math.min(batch.numRows, maxRows - rows);
      current.push(take === batch.numRows ? batch : batch.slice(0, take));
      rows += take;
      batch = take === batch.numRows ? batch.slice(0, 0) : batch.slice(take);
      if (rows === maxRows) {
        chunks.push(current);
        current = [];
        rows = 0;
      }
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
