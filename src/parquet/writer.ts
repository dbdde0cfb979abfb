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

/** Encodes batches (all of one schema) as a Parquet file. */
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
    const { compression, compressionLevel } = options;
    if (compressionLevel !== undefined && !takesLevel(compression)) throw new Error(levelProblem(compression, compressionLevel));
    if (compressionLevel === undefined || !takesLevel(compression)) {
      return wasm.writeParquet(table, writerProperties(options, metadata, columns, compression));
    }
    const { codecId, compress } = levelCompressor(compression, compressionLevel);
    return recompressPages(wasm.writeParquet(table, writerProperties(options, metadata, columns, 'UNCOMPRESSED')), codecId, compress);
  } catch (err) {
    throw new S3ParquetError('PARQUET_WRITE_FAILED', `encoding Parquet failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
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
