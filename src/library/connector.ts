/**
 * `S3ParquetConnector`: the library. Writes record sets of any declared (or inferred) schema as
 * Parquet into the same store the daemon uses, and reads them back with the query engine's
 * pruning and filter language. The store opens on first use (S3 preflight included), so the
 * constructor only validates configuration.
 */
import pino, { type Logger } from 'pino';
import { loadConfig, validateConfigObject, type Config } from '../config/index.js';
import { S3ParquetError, toS3ParquetError } from '../errors.js';
import { deriveInstanceId } from '../instance-id.js';
import { DaemonMetrics, type ReadMetrics, type S3Metrics, type WriteMetrics } from '../metrics.js';
import { MAX_ROWS_PER_FILE, type ParquetWriterOptions } from '../parquet/writer.js';
import { compactUtc } from '../partitioning/paths.js';
import { partitionPath, type Partitioning } from '../partitioning/strategies.js';
import { FOOTER_KEYS } from '../parquet/contract.js';
import type { FlushBatch } from '../pipeline/buffers.js';
import { prepareCompressors } from '../parquet/compressors.js';
import { encodeParquetStreamed } from '../parquet/writer.js';
import { pendingDeleteKeys } from '../log/pending-deletes.js';
import { WriteLog } from '../log/write-log.js';
import { footerDescriber } from '../log/describe.js';
import type { LoggedFile } from '../log/entry.js';
import { QueryEngine, makeScanPlan, emptyStats, type FileAt, type Record_ } from '../query/engine.js';
import { parseFilter } from '../query/filter/index.js';
import { columnsOf } from '../query/filter/index.js';
import { checkPartitionPath, layoutOf } from '../query/partitions.js';
import { openStore, type ObjectInfo, type ObjectStore } from '../store/index.js';
import { VERSION } from '../version.js';
import { ParquetConfig, S3Config } from './configs.js';
import { EncodePool } from './encode-pool.js';
import { encodeFile, isMisfit, toWorkerTask, writeFile, type EncodedFile, type FileTask, type Misfit } from './encode-task.js';
import {
  optionsOf,
  type BatchWriteOperation, type BatchWriteOptions, type BatchWriteResult, type ReadOperation, type ReadOptions, type ReadResult,
  type StreamingReadOperation, type StreamingReadOptions, type WriteOperation, type WriteOptions, type WriteResult,
} from './operations.js';
import { fileCatalog, mergeFileSchemas } from './read-plan.js';
import { inferSchema, type InputRecord } from './records.js';
import { RecordWriter, type RecordWriterOptions } from './record-writer.js';
import { checkSchemaCompatibility, type ParquetSchema } from '../parquet/schema.js';

/** Metrics label of everything the library writes (the daemon's are traces, logs, metrics). */
const METRICS_DATASET = 'library';
const WRITER = `s3-parquet-connector ${VERSION} (library)`;

export interface ConnectorOptions {
  /** pino logger; the library is silent by default. */
  readonly logger?: Logger;
  /** The `{instance}` part of generated file names; default hostname plus a per-process id. */
  readonly instanceId?: string;
  /** Millisecond clock for file names (tests). */
  readonly now?: () => number;
}

interface Opened {
  readonly store: ObjectStore;
  readonly engine: QueryEngine;
  readonly log: WriteLog;
}

/** Options of `readIncremental`: a dataset folder's write log from `cursor` on. */
export interface IncrementalReadOptions {
  /** The top-level folder the files were written under (`createWriter({dataset})`, a batch's basePath). */
  readonly dataset: string;
  /** `nextCursor` of the previous read; none reads from the beginning of the log. */
  readonly cursor?: string;
  readonly filter?: string;
  readonly selectFields?: readonly string[];
  /** Log entries (flushes) read at most (default `[write_log] max_entries_per_read`). */
  readonly maxEntries?: number;
}

export interface IncrementalReadResult {
  readonly records: Record_[];
  readonly nextCursor: string;
  /** More entries are waiting: read again with `nextCursor` right away. */
  readonly more: boolean;
}

/** Options of `createWriter`: the dataset folder plus the writer's schema, partitioning and limits. */
export interface CreateWriterOptions extends RecordWriterOptions {
  /** The top-level folder files go under and the write log names (default `records`). */
  readonly dataset?: string;
}

/** The write log's dataset of a file key: its top-level folder, when that is a plain name. */
function loggedDataset(key: string): string | undefined {
  const slash = key.indexOf('/');
  const first = slash > 0 ? key.slice(0, slash) : '';
  return /^[A-Za-z0-9_.-]+$/.test(first) && !first.startsWith('.') && !first.startsWith('_') ? first : undefined;
}


/** A relative directory inside the store ('' is the root); rejects traversal like the query port. */
function cleanDir(path: string | undefined): string {
  const p = (path ?? '').replace(/\/+$/, '');
  return p === '' ? '' : checkPartitionPath(p);
}

function checkFileName(name: string): string {
  const file = name.endsWith('.parquet') ? name : `${name}.parquet`;
  if (file === '.parquet' || /[/\\\u0000-\u001f]/.test(file) || file.startsWith('.')) {
    throw new S3ParquetError('INVALID_ARGUMENT', `invalid file name ${JSON.stringify(name)}: a plain name without "/", "\\", control characters or a leading "."`);
  }
  return file;
}

function checkRecords(records: unknown): readonly InputRecord[] {
  if (!Array.isArray(records)) throw new S3ParquetError('INVALID_ARGUMENT', 'records must be an array of objects');
  return records as readonly InputRecord[];
}

function wholeNumber(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new S3ParquetError('INVALID_ARGUMENT', `${name} must be a whole number >= ${min}, got ${value}`);
  return value;
}

/** Keys of the store that are data files: Parquet, outside hidden and bookkeeping folders. */
function isDataFile(key: string): boolean {
  return key.endsWith('.parquet') && !key.split('/').some((seg) => seg.startsWith('.') || seg.startsWith('_'));
}

export class S3ParquetConnector {
  readonly config: Config;
  private readonly logger: Logger;
  private readonly instanceId: string;
  private readonly now: () => number;
  private readonly metrics = new DaemonMetrics({ defaultMetrics: false });
  private readonly bloomField: string;
  private opened: Promise<Opened> | undefined;
  private pool: EncodePool | undefined;
  private seq = 0;
  private closed = false;
  private readonly writers = new Set<RecordWriter>();

  /**
   * A connector over the store `s3` names (default: the local directory `./data`) writing with
   * `parquet`'s settings. Throws a `Config` error right away when a setting is invalid.
   */
  constructor(s3: S3Config = S3Config.local('./data'), parquet: ParquetConfig = ParquetConfig.create(), options: ConnectorOptions = {}) {
    this.config = validateConfigObject({ ...s3.toDocument(), ...parquet.toDocument() }, { source: 'S3ParquetConnector' });
    this.bloomField = parquet.bloomField;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.instanceId = options.instanceId ?? deriveInstanceId(this.config.storage.instance_id);
    this.now = options.now ?? Date.now;
  }

  /**
   * A connector from the daemon's configuration: a path to `s3-parquet.toml`, or the document as
   * an object (`{s3: {bucket: …}, parquet: {compression: 'ZSTD'}}`). The `[storage]`, `[s3]`,
   * `[operations]` and `[parquet]` tables apply; the rest is the daemon's.
   */
  static fromConfig(config: string | Record<string, unknown>, options: ConnectorOptions = {}): S3ParquetConnector {
    const c = typeof config === 'string' ? loadConfig(config) : validateConfigObject(config, { source: 'S3ParquetConnector.fromConfig' });
    const s3 = S3Config.fromDocument({ storage: c.storage, s3: c.s3, operations: c.operations });
    return new S3ParquetConnector(s3, ParquetConfig.fromDocument({ parquet: c.parquet }), options);
  }

  // ---- store --------------------------------------------------------------------------------

  private open(): Promise<Opened> {
    if (this.closed) return Promise.reject(new S3ParquetError('SHUTTING_DOWN', 'the connector is closed'));
    this.opened ??= (async () => {
      const store = await openStore(this.config, this.logger, this.instanceId, {
        onRequest: (op, ok, ms) => this.metrics.observeStoreRequest(op, ok, ms),
      });
      const log = new WriteLog({
        store,
        instanceId: this.instanceId,
        settleWindowMs: this.config.write_log.settle_window_seconds * 1000,
        describeFile: footerDescriber(store),
        now: this.now,
      });
      const engine = new QueryEngine({
        store,
        writeLog: log, // one log per connector (the engine would otherwise make a reader of its own)
        layout: layoutOf(this.config.partitioning),
        promoted: { traces: [], logs: [], metrics: [] },
        onQuery: (stats) => this.metrics.observeQuery(stats.rows_returned, stats.elapsed_ms),
      });
      return { store, engine, log };
    })();
    this.opened.catch(() => (this.opened = undefined)); // a failed open (S3 down) is retried next call
    return this.opened;
  }

  /** The underlying store (e.g. to hand to the daemon's tools). */
  async store(): Promise<ObjectStore> {
    return (await this.open()).store;
  }

  private writerOptions(): ParquetWriterOptions {
    const p = this.config.parquet;
    return {
      compression: p.compression,
      rowGroupSize: p.row_group_size,
      pageSize: p.page_size,
      dictionaryEnabled: p.dictionary_enabled,
      statisticsEnabled: p.statistics_enabled,
      createdBy: WRITER,
      ...(p.compression_level !== undefined ? { compressionLevel: p.compression_level } : {}),
    };
  }

  private task(schema: ParquetSchema, records: readonly InputRecord[], indexes: readonly number[] | number): FileTask {
    return {
      schema,
      records,
      indexes,
      // One key only (the footer has the row count): parquet-wasm keeps key-value metadata in a
      // Rust HashMap whose order differs per wasm instance, and files must not depend on the thread.
      metadata: [[FOOTER_KEYS.writer, WRITER]],
      ...(this.config.parquet.bloom_filter_enabled ? { bloomField: this.bloomField } : {}),
    };
  }

  private fileName(): string {
    return `${compactUtc(this.now())}-${this.instanceId}-${String(this.seq++).padStart(6, '0')}.parquet`;
  }

  private async put(store: ObjectStore, key: string, result: EncodedFile, started: number): Promise<void> {
    await store.put(key, result.bytes);
    this.metrics.observeFile(METRICS_DATASET, result.rows, result.bytes.length);
    this.metrics.observeFlush(METRICS_DATASET, result.rawBytes, result.bytes.length, (performance.now() - started) / 1000);
  }

  /**
   * Records stored files in the write log of their dataset folder (files at the store root, or
   * under a Hive `key=value` first level, have none). Never throws: a failed append is kept and
   * retried, and listing still finds the files.
   */
  private async logFiles(log: WriteLog, files: readonly LoggedFile[]): Promise<void> {
    if (!this.config.write_log.enabled) return;
    const byDataset = new Map<string, LoggedFile[]>();
    for (const f of files) {
      const dataset = loggedDataset(f.key);
      if (dataset === undefined) continue;
      let list = byDataset.get(dataset);
      if (!list) byDataset.set(dataset, (list = []));
      list.push(f);
    }
    for (const [dataset, list] of byDataset) await log.record(dataset, list);
  }

  // ---- writes -------------------------------------------------------------------------------

  /**
   * Writes the records as one Parquet file at `{partitionPath}/{fileName}`. Every record is
   * checked first: one that does not fit the schema fails the whole write (nothing is stored)
   * with `record N: field "x" …`.
   */
  async write(op: WriteOperation | WriteOptions): Promise<WriteResult> {
    const o = optionsOf<Partial<WriteOptions>>(op);
    if (!o.schema) throw new S3ParquetError('SCHEMA_INVALID', 'a write needs a schema (withSchema)');
    const records = checkRecords(o.records);
    const dir = cleanDir(o.partitionPath);
    const file = o.fileName !== undefined ? checkFileName(o.fileName) : this.fileName();
    const key = dir === '' ? file : `${dir}/${file}`;
    const started = performance.now();
    const parquet = this.writerOptions();
    if (parquet.compressionLevel !== undefined) await prepareCompressors();
    const encoded = encodeFile(this.task(o.schema, records, 0), parquet);
    const { store, log } = await this.open();
    try {
      await this.put(store, key, encoded, started);
    } catch (err) {
      throw toS3ParquetError(err, 'STORE_FAILED');
    }
    await this.logFiles(log, [{ key, rows: records.length, bytes: encoded.bytes.length, minTimeNs: 0n, maxTimeNs: 0n }]);
    return { recordCount: records.length, path: key, bytesWritten: encoded.bytes.length };
  }

  /**
   * Partitions the records, writes at most `batchSize` records per file, encoding on
   * `parallelism` worker threads and uploading concurrently. All files are encoded before the
   * first upload, so a record that does not fit fails the batch with nothing stored; an upload
   * failure removes the files this batch already stored. The files are the same whatever the
   * parallelism.
   */
  async batchWrite(op: BatchWriteOperation | BatchWriteOptions): Promise<BatchWriteResult> {
    const o = optionsOf<Partial<BatchWriteOptions>>(op);
    const records = checkRecords(o.records);
    const parallelism = wholeNumber('parallelism', o.parallelism, 1);
    const batchSize = Math.min(wholeNumber('batchSize', o.batchSize, MAX_ROWS_PER_FILE), MAX_ROWS_PER_FILE);
    const base = cleanDir(o.basePath);
    const strategies: readonly Partitioning[] = o.partitioning ?? [];
    const schema = o.schema ?? inferSchema(records);
    const started = performance.now();

    // Group record indexes by partition (in first-seen order), then cut each group into files.
    const groups = new Map<string, number[]>();
    records.forEach((r, i) => {
      let path: string;
      try {
        path = strategies.length > 0 ? partitionPath(strategies, r) : '';
      } catch (err) {
        throw new S3ParquetError('SCHEMA_INVALID', `record ${i}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      let list = groups.get(path);
      if (!list) groups.set(path, (list = []));
      list.push(i);
    });
    const files: { key: string; task: FileTask }[] = [];
    for (const [path, indexes] of groups) {
      const dir = [base, path].filter((p) => p !== '').join('/');
      for (let at = 0; at < indexes.length; at += batchSize) {
        const slice = indexes.slice(at, at + batchSize);
        const file = this.fileName();
        files.push({ key: dir === '' ? file : `${dir}/${file}`, task: this.task(schema, slice.map((i) => records[i]!), slice) });
      }
    }

    const encoded = await this.encodeAll(files.map((f) => f.task), parallelism);
    const { store, log } = await this.open();
    const stored: string[] = [];
    try {
      await runConcurrently(files.length, Math.max(parallelism, this.config.s3.multipart.max_concurrent_uploads), async (i) => {
        await this.put(store, files[i]!.key, encoded[i]!, started);
        stored.push(files[i]!.key);
      });
    } catch (err) {
      await store.delete(stored).catch((cleanup: unknown) => this.logger.warn({ err: cleanup, keys: stored }, 'batchWrite: removing the files of a failed batch failed'));
      throw toS3ParquetError(err, 'STORE_FAILED');
    }
    await this.logFiles(log, files.map((f, i) => ({ key: f.key, rows: encoded[i]!.rows, bytes: encoded[i]!.bytes.length, minTimeNs: 0n, maxTimeNs: 0n })));
    const bytesWritten = encoded.reduce((n, e) => n + e.bytes.length, 0);
    return { recordCount: records.length, fileCount: files.length, paths: files.map((f) => f.key), bytesWritten };
  }

  /**
   * Every file validated, built and encoded: all here (parallelism 1), or shared between this
   * thread (every N-th file) and N - 1 workers, which get their records by structured clone.
   * Throws the first misfit in record order, after every file has settled.
   */
  private async encodeAll(tasks: readonly FileTask[], parallelism: number): Promise<EncodedFile[]> {
    const parquet = this.writerOptions();
    const workers = Math.min(parallelism, tasks.length) - 1;
    if (workers > 0 && this.pool?.threads !== workers) {
      await this.pool?.close();
      this.pool = new EncodePool(workers);
    }
    const pool = workers > 0 ? this.pool : undefined;
    const results: (EncodedFile | Misfit | Promise<EncodedFile | Misfit>)[] = new Array(tasks.length);
    const local: number[] = [];
    if (parquet.compressionLevel !== undefined) await prepareCompressors();
    tasks.forEach((task, i) => {
      if (!pool || i % parallelism === 0) local.push(i);
      else {
        const running = pool.run(toWorkerTask(task, parquet));
        running.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
        results[i] = running;
      }
    });
    for (const i of local) {
      results[i] = writeFile(tasks[i]!, parquet);
      // Let finished workers get their next file before this thread takes on another.
      if (pool) await new Promise((resolve) => setImmediate(resolve));
    }
    const settled = await Promise.allSettled(results);
    const misfits: Misfit[] = [];
    const files: EncodedFile[] = [];
    for (const r of settled) {
      if (r.status === 'rejected') throw toS3ParquetError(r.reason, 'PARQUET_WRITE_FAILED');
      if (isMisfit(r.value)) misfits.push(r.value);
      else files.push(r.value);
    }
    const first = misfits.sort((a, b) => a.index - b.index)[0];
    if (first) throw new S3ParquetError(first.code, first.message);
    return files;
  }

  // ---- reads --------------------------------------------------------------------------------

  private async dataFiles(store: ObjectStore, dir: string): Promise<ObjectInfo[]> {
    const files: ObjectInfo[] = [];
    for await (const info of store.list(dir === '' ? '' : `${dir}/`)) if (isDataFile(info.key)) files.push(info);
    return this.config.write_log.enabled ? this.liveFiles(store, files) : files;
  }

  /**
   * The listed files a reader should see, dataset by dataset: those the write log names when
   * its view is complete, else all but the files a compaction replaced. A listing alone would
   * show a compaction's merged files beside their inputs (during the delete grace, or between
   * upload and swap) and so every row twice.
   */
  private async liveFiles(store: ObjectStore, files: readonly ObjectInfo[]): Promise<ObjectInfo[]> {
    const { log } = await this.open();
    const byDataset = new Map<string, ObjectInfo[]>();
    const out: ObjectInfo[] = [];
    for (const f of files) {
      const dataset = loggedDataset(f.key);
      if (dataset === undefined) {
        out.push(f); // outside any dataset folder: no log, no compaction
        continue;
      }
      let list = byDataset.get(dataset);
      if (!list) byDataset.set(dataset, (list = []));
      list.push(f);
    }
    for (const [dataset, list] of byDataset) {
      const view = await log.view(dataset);
      if (view.complete) {
        const live = new Set(view.files.map((f) => f.key));
        for (const f of list) if (live.has(f.key)) out.push(f);
      } else {
        const replaced = await pendingDeleteKeys(store, dataset);
        for (const f of list) if (!replaced.has(f.key)) out.push(f);
      }
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async *scan(o: ReadOptions): AsyncGenerator<Record_> {
    const dir = cleanDir(o.partitionPath);
    const { store } = await this.open();
    const files = await this.dataFiles(store, dir);
    if (files.length === 0) {
      if (o.partitionPath !== undefined && dir !== '') throw new S3ParquetError('NOT_FOUND', `no Parquet files under ${JSON.stringify(dir)}`);
      return;
    }
    yield* this.scanFileList(files, o);
  }

  /** Reads the files with their merged schema: filter, projection and limit as in `read`. */
  private async *scanFileList(files: readonly FileAt[], o: ReadOptions): AsyncGenerator<Record_> {
    const limit = o.limit === undefined ? undefined : wholeNumber('limit', o.limit, 0, 0);
    const { engine } = await this.open();
    const footers = await Promise.all(files.map(async (info) => ({ key: info.key, metadata: await engine.footer(info) })));
    const cat = fileCatalog(mergeFileSchemas(footers));
    const select = o.selectFields && o.selectFields.length > 0 ? [...o.selectFields] : cat.schema.names;
    for (const c of select) {
      if (!cat.converters.has(c)) throw new S3ParquetError('INVALID_ARGUMENT', `unknown field ${JSON.stringify(c)} in selectFields; the files have ${cat.schema.names.join(', ')}`);
    }
    const expr = o.filter && o.filter.trim() !== '' ? parseFilter(o.filter, cat.filterColumns) : null;
    const columns = new Set(select);
    if (expr) for (const c of columnsOf(expr)) columns.add(c);
    const plan = makeScanPlan({ expr, columns: [...columns], select, converters: cat.converters, filterColumns: cat.filterColumns, limit });
    yield* engine.scanFiles(files, plan, emptyStats());
  }

  /** Every record below `partitionPath` matching the filter, with the selected fields, up to `limit`. */
  async read(op: ReadOperation | ReadOptions): Promise<ReadResult> {
    const records: Record_[] = [];
    for await (const r of this.scan(optionsOf<ReadOptions>(op))) records.push(r);
    return { records };
  }

  /** Like `read`, as batches of at most `batchSize` records; one row group is held at a time. */
  async *streamingRead(op: StreamingReadOperation | StreamingReadOptions): AsyncGenerator<{ records: Record_[] }> {
    const o = optionsOf<StreamingReadOptions>(op);
    const batchSize = wholeNumber('batchSize', o.batchSize, 1000);
    let batch: Record_[] = [];
    for await (const r of this.scan(o)) {
      batch.push(r);
      if (batch.length >= batchSize) {
        yield { records: batch };
        batch = [];
      }
    }
    if (batch.length > 0) yield { records: batch };
  }

  /** Directories holding Parquet files below `prefix`, relative to the store root, sorted. */
  async listPartitions(prefix = ''): Promise<string[]> {
    const dir = cleanDir(prefix);
    const { store } = await this.open();
    const out = new Set<string>();
    for (const info of await this.dataFiles(store, dir)) {
      const slash = info.key.lastIndexOf('/');
      out.add(slash < 0 ? '' : info.key.slice(0, slash));
    }
    return [...out].sort();
  }

  /** Deletes every object below the partition path; returns how many. The store root cannot be deleted this way. */
  async deletePartition(path: string): Promise<number> {
    const dir = cleanDir(path);
    if (dir === '') throw new S3ParquetError('INVALID_ARGUMENT', 'deletePartition needs a partition path; refusing to delete the whole store');
    const { store } = await this.open();
    const keys: string[] = [];
    for await (const info of store.list(`${dir}/`)) keys.push(info.key);
    if (keys.length > 0) await store.delete(keys);
    return keys.length;
  }

  // ---- streams --------------------------------------------------------------------------------

  /**
   * A streaming writer: records are buffered per partition and flushed by rows, bytes and age
   * (the daemon's buffers), each flush one file under `{dataset}/{partition}/`, recorded in the
   * write log so `readIncremental` consumers see it.
   */
  createWriter(options: CreateWriterOptions): RecordWriter {
    const dataset = options.dataset ?? 'records';
    if (loggedDataset(`${dataset}/x`) === undefined) {
      throw new S3ParquetError('INVALID_ARGUMENT', `createWriter: dataset ${JSON.stringify(dataset)} must be a plain folder name (letters, digits, ".", "_", "-"; not starting with "." or "_")`);
    }
    if (!options.schema) throw new S3ParquetError('SCHEMA_INVALID', 'createWriter needs a schema');
    const writer = new RecordWriter(dataset, options, {
      store: (flush) => this.storeFlush(flush),
      failed: (err, flush) => this.logger.warn({ err, dataset: flush.dataset, partition: flush.partition, rows: flush.rows }, 'writer flush failed; retrying with backoff'),
    });
    this.writers.add(writer);
    return writer;
  }

  private async storeFlush(flush: FlushBatch): Promise<void> {
    const started = performance.now();
    const { store, log } = await this.open();
    const dir = flush.partition === '' ? flush.dataset : `${flush.dataset}/${flush.partition}`;
    const key = `${dir}/${this.fileName()}`;
    const metadata = new Map([[FOOTER_KEYS.writer, WRITER]]);
    const parquet = this.writerOptions();
    if (parquet.compressionLevel !== undefined) await prepareCompressors();
    // A slice at a time into wasm (its memory never shrinks), as the daemon's flushes.
    const bytes = await encodeParquetStreamed(flush.batches, metadata, parquet);
    await this.put(store, key, { bytes, rows: flush.rows, rawBytes: flush.bytes }, started);
    await this.logFiles(log, [{ key, rows: flush.rows, bytes: bytes.length, minTimeNs: flush.minTime, maxTimeNs: flush.maxTime }]);
  }

  /**
   * What was written to a dataset folder since `cursor` (from the beginning without one), read
   * through the write log: each file once, even from writers whose clocks lag by less than
   * `[write_log] settle_window_seconds` (docs/write-log.md). Use `nextCursor` for the next read.
   */
  async readIncremental(o: IncrementalReadOptions): Promise<IncrementalReadResult> {
    const { log } = await this.open();
    const changes = await log.changes(o.dataset, o.cursor, { maxEntries: o.maxEntries ?? this.config.write_log.max_entries_per_read });
    const files = changes.files.map((f) => ({ key: f.key, size: f.bytes }));
    const records: Record_[] = [];
    if (files.length > 0) {
      const read = { ...(o.filter !== undefined ? { filter: o.filter } : {}), ...(o.selectFields !== undefined ? { selectFields: o.selectFields } : {}) };
      for await (const r of this.scanFileList(files, read)) records.push(r);
    }
    return { records, nextCursor: changes.nextCursor, more: changes.more };
  }

  // ---- schema -------------------------------------------------------------------------------

  /**
   * Throws a `Schema` error listing every field that makes `next` unable to read what `old`
   * wrote (see `checkSchemaCompatibility` for the rules); returns quietly when compatible.
   */
  validateSchemaCompatibility(old: ParquetSchema, next: ParquetSchema): void {
    const problems = checkSchemaCompatibility(old, next);
    if (problems.length > 0) throw new S3ParquetError('SCHEMA_INVALID', `incompatible schema change:\n${problems.join('\n')}`);
  }

  // ---- metrics ------------------------------------------------------------------------------

  getWriteMetrics(): WriteMetrics {
    return this.metrics.getWriteMetrics();
  }

  getReadMetrics(): ReadMetrics {
    return this.metrics.getReadMetrics();
  }

  getS3Metrics(): S3Metrics {
    return this.metrics.getS3Metrics();
  }

  /** Closes every writer (flushing it), stops the worker threads, settles the write log and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const w of this.writers) await w.close();
    this.closed = true;
    await this.pool?.close();
    const opened = await this.opened?.catch(() => undefined);
    await opened?.log.settle();
    await opened?.store.close();
  }
}

/** Runs `task(0..n-1)` with at most `limit` in flight; the first failure rejects after in-flight ones settle. */
async function runConcurrently(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (next < n && failure === undefined) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
  if (failure !== undefined) throw failure;
}
