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
import { layoutWriterOptions, MAX_ROWS_PER_FILE, type ParquetWriterOptions } from '../parquet/writer.js';
import type { ObjectStore } from '../store/object-store.js';
import { compactUtc } from '../partitioning/paths.js';
import { PartialFlushError, type FlushBatch } from './buffers.js';
import { FileIndex, FOOTER_KEYS, type StorageLayout } from '../parquet/contract.js';
import { orderedChunks, type EncodePlan } from './encode-flush.js';
import { InThreadEncoder, type FlushEncoder } from './encode-pool.js';
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
  /** Sorts and encodes flushes ([parquet] encode_workers); the calling thread when absent. */
  readonly encoder?: FlushEncoder;
}


/** What a dataset's encode plan is made of: the writer settings of `FileWriterOptions`. */
export type EncodePlanSettings = Pick<FileWriterOptions, 'parquet' | 'writer' | 'maxRowsPerFile' | 'layouts' | 'bloomColumns' | 'indexColumns'>;

/**
 * How `dataset`'s flushes are sorted and encoded under these settings (its layout, bloom filter and
 * trace index); `head` holds the footer keys that come first. In-process benches plan with it too.
 */
export function datasetEncodePlan(o: EncodePlanSettings, dataset: string, head: EncodePlan['head']): EncodePlan {
  const layout = o.layouts?.[dataset];
  const bloomColumn = o.bloomColumns?.[dataset];
  const indexColumn = o.indexColumns?.[dataset];
  return {
    head,
    writer: o.writer,
    parquet: layout ? layoutWriterOptions(o.parquet, layout) : o.parquet,
    sortBy: layout?.sortBy ?? [],
    maxRows: o.maxRowsPerFile ?? MAX_ROWS_PER_FILE,
    ...(bloomColumn ? { bloomColumn } : {}),
    ...(indexColumn ? { indexColumn } : {}),
  };
}

export class FileWriter {
  private seq = 0;
  private readonly now: () => number;
  private readonly encoder: FlushEncoder;

  constructor(private readonly options: FileWriterOptions) {
    this.now = options.now ?? Date.now;
    this.encoder = options.encoder ?? new InThreadEncoder();
  }

  nextKey(dataset: string, partition: string): string {
    const seq = String(this.seq++).padStart(6, '0');
    return `${dataset}/${partition}/${compactUtc(this.now())}-${this.options.instanceId}-${seq}.parquet`;
  }

  /**
   * Writes the flush as one or more files. `beforeWrite` gets every key before the first object
   * is written (the write-ahead log records them, so a crash mid-flush can be undone). Sorting
   * and encoding happen first, on the encoder (a worker thread unless `encode_workers = 0`).
   */
  async write(flush: FlushBatch, beforeWrite?: (keys: readonly string[]) => Promise<void>): Promise<WrittenFile[]> {
    const written: WrittenFile[] = [];
    const plan = this.plan(flush);
    const chunks = flush.batches.some((b) => b.numRows > 0) ? await this.encoder.encode(flush.batches, plan) : [];
    const keys = chunks.map(() => this.nextKey(flush.dataset, flush.partition));
    // Objects an earlier attempt may have stored go first; until that succeeds nothing is written.
    if (flush.abandonedKeys.length > 0) await this.options.store.delete(flush.abandonedKeys);
    await beforeWrite?.(keys);
    const version = String(this.options.schemaVersions[flush.dataset] ?? 0);
    for (let i = 0; i < chunks.length; i++) {
      const { body, rows, index } = chunks[i]!;
      try {
        await this.options.store.put(keys[i]!, body, { dataset: flush.dataset, schema_version: version });
        written.push({ key: keys[i]!, rows, bytes: body.length, ...(index ? { index: new FileIndex(index.column, index.encoded) } : {}) });
      } catch (err) {
        // The failed PUT may have reached the store all the same: its key and the later ones are
        // abandoned, to be deleted before the retry (which writes under new keys).
        const abandonedKeys = keys.slice(i);
        if (i === 0) throw new PartialFlushError({ ...flush, abandonedKeys }, { cause: err, stored: false });
        await this.record(flush, written); // the stored part is visible: log it now
        // The rest in file order: the sort is deterministic, so this is what chunks i… held.
        const rest = orderedChunks(flush.batches, plan).slice(i).flat();
        const restRows = rest.reduce((n, b) => n + b.numRows, 0);
        const bytes = Math.ceil((flush.bytes * restRows) / flush.rows);
        throw new PartialFlushError({ ...flush, batches: rest, rows: restRows, bytes, abandonedKeys }, { cause: err, stored: true });
      }
    }
    await this.record(flush, written);
    return written;
  }

  /** Starts the encoder's workers; resolves once they have loaded. */
  warm(): Promise<void> {
    return this.encoder.warm();
  }

  /** Shuts the encoder's workers down (after the last flush). */
  close(): Promise<void> {
    return this.encoder.close();
  }

  private plan(flush: FlushBatch): EncodePlan {
    // Event-time bounds are the buffer's, a safe superset for each file of it.
    return datasetEncodePlan(this.options, flush.dataset, [
      [FOOTER_KEYS.dataset, flush.dataset],
      [FOOTER_KEYS.schemaVersion, String(this.options.schemaVersions[flush.dataset] ?? 0)],
      [FOOTER_KEYS.minEventTime, flush.minTime.toString()],
      [FOOTER_KEYS.maxEventTime, flush.maxTime.toString()],
    ]);
  }

  private async record(flush: FlushBatch, files: readonly WrittenFile[]): Promise<void> {
    const log = this.options.writeLog;
    if (!log || files.length === 0) return;
    // The buffer's event-time bounds: a safe superset for each of its files.
    await log.record(flush.dataset, files.map((f) => ({ key: f.key, rows: f.rows, bytes: f.bytes, minTimeNs: flush.minTime, maxTimeNs: flush.maxTime, ...(f.index ? { index: f.index } : {}) })));
  }
}
