/**
 * Turns a flushed buffer into Parquet objects in the store:
 * `{dataset}/{partition}/{YYYYMMDDTHHMMSSZ}-{instance}-{seq}.parquet`.
 *
 * Names sort by flush time and are unique per instance (the instance id includes a per-start
 * run id), so several instances can write into one bucket without coordination.
 *
 * With a write log, each flush's files are recorded in one log entry once they are stored; a
 * failed append never fails the flush (the log keeps the entry for a retry and drops the
 * dataset's checkpoint, so readers list partitions until the log is whole again).
 */
import { chunkBatches, encodeParquet, MAX_ROWS_PER_FILE, type ParquetWriterOptions } from '../parquet/writer.js';
import type { ObjectStore } from '../store/object-store.js';
import { compactUtc } from '../partitioning/paths.js';
import { PartialFlushError, type FlushBatch } from './buffers.js';
import { sortBatches } from './sort.js';
import { buildFileIndex, FOOTER_KEYS, type FileIndex, type StorageLayout } from '../parquet/contract.js';
import type { WriteLog } from '../log/write-log.js';


export interface WrittenFile {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
  /** The file's trace index, when its dataset has an index column. */
  readonly index?: FileIndex;
}

export interface FileWriterOptions {
  readonly store: ObjectStore;
  readonly parquet: ParquetWriterOptions;
  readonly instanceId: string;
  readonly schemaVersions: Readonly<Record<string, number>>;
  readonly writer: string;
  readonly now?: () => number;
  readonly maxRowsPerFile?: number;
  /** Per dataset, the row order and column encodings of its files (`DATASETS[…].storage`). */
  readonly layouts?: Readonly<Record<string, StorageLayout>>;
  /** Per dataset, a string column whose values go into a footer bloom filter. */
  readonly bloomColumns?: Readonly<Record<string, string>>;
  /**
   * Per dataset, a string column whose bloom filter goes into the file's write-log entry (the
   * trace index). The same filter as the footer's when both name the column.
   */
  readonly indexColumns?: Readonly<Record<string, string>>;
  /** Records every flush's files ([write_log]); without it nothing is logged. */
  readonly writeLog?: WriteLog;
}


export class FileWriter {
  private seq = 0;
  private readonly now: () => number;

  constructor(private readonly options: FileWriterOptions) {
    this.now = options.now ?? Date.now;
  }

  nextKey(dataset: string, partition: string): string {
    const seq = String(this.seq++).padStart(6, '0');
    return `${dataset}/${partition}/${compactUtc(this.now())}-${this.options.instanceId}-${seq}.parquet`;
  }

  /**
   * Writes the flush as one or more files. `beforeWrite` gets every key before the first object
   * is written (the write-ahead log records them, so a crash mid-flush can be undone).
   */
  async write(flush: FlushBatch, beforeWrite?: (keys: readonly string[]) => Promise<void>): Promise<WrittenFile[]> {
    const written: WrittenFile[] = [];
    const sortBy = this.options.layouts?.[flush.dataset]?.sortBy ?? [];
    const ordered = sortBy.length > 0 && flush.batches.length > 0 ? [sortBatches(flush.batches, sortBy)] : flush.batches;
    const chunks = chunkBatches(ordered, this.options.maxRowsPerFile ?? MAX_ROWS_PER_FILE);
    const keys = chunks.map(() => this.nextKey(flush.dataset, flush.partition));
    // Objects an earlier attempt may have stored go first; until that succeeds nothing is written.
    if (flush.abandonedKeys.length > 0) await this.options.store.delete(flush.abandonedKeys);
    await beforeWrite?.(keys);
    for (let i = 0; i < chunks.length; i++) {
      try {
        written.push(await this.writeChunk(flush, chunks[i]!, keys[i]!));
      } catch (err) {
        // The failed PUT may have reached the store all the same: its key and the later ones are
        // abandoned, to be deleted before the retry (which writes under new keys).
        const abandonedKeys = keys.slice(i);
        if (i === 0) throw new PartialFlushError({ ...flush, abandonedKeys }, { cause: err, stored: false });
        await this.record(flush, written); // the stored part is visible: log it now
        const rest = chunks.slice(i).flat();
        const rows = rest.reduce((n, b) => n + b.numRows, 0);
        const bytes = Math.ceil((flush.bytes * rows) / flush.rows);
        throw new PartialFlushError({ ...flush, batches: rest, rows, bytes, abandonedKeys }, { cause: err, stored: true });
      }
    }
    await this.record(flush, written);
    return written;
  }

  private async record(flush: FlushBatch, files: readonly WrittenFile[]): Promise<void> {
    const log = this.options.writeLog;
    if (!log || files.length === 0) return;
    // The buffer's event-time bounds: a safe superset for each of its files.
    await log.record(flush.dataset, files.map((f) => ({ key: f.key, rows: f.rows, bytes: f.bytes, minTimeNs: flush.minTime, maxTimeNs: flush.maxTime, ...(f.index ? { index: f.index } : {}) })));
  }

  private async writeChunk(flush: FlushBatch, chunk: FlushBatch['batches'], key: string): Promise<WrittenFile> {
    let rows = 0;
    for (const b of chunk) rows += b.numRows;
    // Event-time bounds are the buffer's, a safe superset for each chunk of it.
    const metadata = new Map<string, string>([
      [FOOTER_KEYS.dataset, flush.dataset],
      [FOOTER_KEYS.schemaVersion, String(this.options.schemaVersions[flush.dataset] ?? 0)],
      [FOOTER_KEYS.minEventTime, flush.minTime.toString()],
      [FOOTER_KEYS.maxEventTime, flush.maxTime.toString()],
      [FOOTER_KEYS.rowCount, String(rows)],
      [FOOTER_KEYS.writer, this.options.writer],
    ]);
    const bloomColumn = this.options.bloomColumns?.[flush.dataset];
    const indexColumn = this.options.indexColumns?.[flush.dataset];
    const bloom = bloomColumn ? buildFileIndex(bloomColumn, columnStrings(chunk, bloomColumn)) : undefined;
    if (bloom) metadata.set(FOOTER_KEYS.traceIdBloom, bloom.encoded);
    const index = indexColumn ? (indexColumn === bloomColumn ? bloom : buildFileIndex(indexColumn, columnStrings(chunk, indexColumn))) : undefined;
    const layout = this.options.layouts?.[flush.dataset];
    const parquet = layout
      ? { ...this.options.parquet, columnEncodings: layout.encodings, rowGroupSize: Math.min(this.options.parquet.rowGroupSize, layout.rowGroupRows ?? Number.POSITIVE_INFINITY), pageSize: Math.min(this.options.parquet.pageSize, layout.pageBytes ?? Number.POSITIVE_INFINITY), ...(layout.writeBatchRows ? { writeBatchRows: layout.writeBatchRows } : {}) }
      : this.options.parquet;
    const body = encodeParquet(chunk, metadata, parquet);
    const version = String(this.options.schemaVersions[flush.dataset] ?? 0);
    await this.options.store.put(key, body, { dataset: flush.dataset, schema_version: version });
    return { key, rows, bytes: body.length, ...(index ? { index } : {}) };
  }
}

function* columnStrings(batches: FlushBatch['batches'], column: string): Generator<string> {
  for (const b of batches) {
    const vec = b.getChild(column);
    if (!vec) continue;
    for (let i = 0; i < b.numRows; i++) {
      const v = vec.get(i) as string | null;
      if (v !== null) yield v;
    }
  }
}
