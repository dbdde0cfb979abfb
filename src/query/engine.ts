/**
 * The query engine over the store: prunes partitions by path (time range and Hive keys), then
 * files and row groups by footer statistics, then reads only the needed columns of the remaining
 * row groups with byte-range requests and filters rows. Results stream as an async iterable, so
 * a caller holds one row group at a time however large the result.
 *
 * Files come from the dataset's write log when it is complete (src/log/), else from a listing.
 */
import { pendingDeleteKeys } from '../log/pending-deletes.js';
import { parquetReadObjects, rowIndex, type FileMetaData, type RowGroup } from 'hyparquet';
import { COMPRESSORS as compressors } from '../parquet/decompressors.js';
import { S3ParquetError } from '../errors.js';
import { DATASET_NAMES, DATASETS, isDatasetName, type DatasetName } from '../schema/datasets.js';
import type { PromotedSpec } from '../schema/promoted.js';
import type { ObjectInfo, ObjectStore } from '../store/object-store.js';
import { FOOTER_KEYS, INDEX_COLUMNS, parseBloom, type FileIndex } from '../parquet/contract.js';
import { datasetCatalog, type DatasetCatalog } from './catalog.js';
import { resourceColumnsInFilter } from './promoted-filter.js';
import { columnsOf, evaluate, mightMatch, parseFilter, type ColumnCatalog, type ColumnStats, type Expr, type FilterLimits } from './filter/index.js';
import type { Converter, JsonValue } from './json-values.js';
import { checkPartitionPath, listPartitionFiles, partitionKeys, partitionsForRange, timePart, type TimeLayout } from './partitions.js';
import { readColumnRange, readMatchedRows, type ColumnRange } from './columns.js';
import type { Field } from 'apache-arrow';
import { FooterCache, PARSERS, storeBuffer, TAIL_FETCH_BYTES, WHOLE_FILE_BYTES, wholeWhenSmall, type ReadCounter } from '../parquet/source.js';
import { PageIndexCache } from '../parquet/page-index.js';
import { PrefetchBuffer } from '../parquet/prefetch.js';
import { DEFAULT_MAX_ENTRIES_PER_READ, listPages, WriteLog } from '../log/write-log.js';
import type { LoggedFile } from '../log/entry.js';
import type { DerivedColumn } from '../schema/derived.js';
import { addDerived, storedColumns, toDerive, withDerivedStats } from './derived-columns.js';

export interface QueryOptions {
  readonly dataset: string;
  /** A partition prefix inside the dataset, e.g. `date=2024-01-01`. */
  readonly partition?: string;
  /** Event time range [start, end), ns since the epoch. */
  readonly start?: bigint;
  readonly end?: bigint;
  readonly filter?: string;
  readonly select?: readonly string[];
  readonly limit?: number;
}

export interface QueryStats {
  partitions_considered: number;
  partitions_pruned: number;
  files_considered: number;
  files_pruned: number;
  files_pruned_by_bloom: number;
  /** Files the write log's trace index ruled out of a lookup: never opened. */
  files_pruned_by_index: number;
  /**
   * Files a lookup on an indexed column had to open because they have no usable index entry
   * (written before the index, a damaged index, or files found by listing): the footer decides.
   */
  files_unindexed: number;
  row_groups_considered: number;
  row_groups_pruned: number;
  rows_scanned: number;
  rows_returned: number;
  bytes_read: number;
  read_requests: number;
  footer_cache_hits: number;
  /** Files named by the write log or a listing but gone (deleted, or removed by crash recovery). */
  files_missing: number;
  /** Files found in the write log instead of a partition listing. */
  files_from_log: number;
  /** LIST requests made (the log's or the partitions'), counted as S3 pages them (1000 keys). */
  list_requests: number;
  /** LIST requests a partition listing would have made for the files the log named (at least). */
  list_requests_avoided: number;
  elapsed_ms: number;
}

export function emptyStats(): QueryStats {
  return {
    partitions_considered: 0,
    partitions_pruned: 0,
    files_considered: 0,
    files_pruned: 0,
    files_pruned_by_bloom: 0,
    files_pruned_by_index: 0,
    files_unindexed: 0,
    row_groups_considered: 0,
    row_groups_pruned: 0,
    rows_scanned: 0,
    rows_returned: 0,
    bytes_read: 0,
    read_requests: 0,
    footer_cache_hits: 0,
    files_missing: 0,
    files_from_log: 0,
    list_requests: 0,
    list_requests_avoided: 0,
    elapsed_ms: 0,
  };
}

export interface QueryEngineOptions {
  readonly store: ObjectStore;
  readonly layout: TimeLayout;
  readonly promoted: Readonly<Record<DatasetName, readonly PromotedSpec[]>>;
  readonly footerCacheEntries?: number;
  /** Told when each query ends (read metrics): its stats, rows returned and elapsed time included. */
  readonly onQuery?: (stats: QueryStats) => void;
  /** The write log to read; a read-only one over `store` when omitted. */
  readonly writeLog?: WriteLog;
  /** Find files in the write log when it is complete (default true); false always lists. */
  readonly useLogForQueries?: boolean;
  /** Default cap of log entries per changes read ([write_log] max_entries_per_read). */
  readonly maxEntriesPerRead?: number;
  /** Told when a query lists partitions because the write log cannot be trusted, and why. */
  readonly onLogFallback?: (dataset: string, reason: string) => void;
  /** Size and nesting limits on filters ([query] max_filter_bytes, max_filter_depth). */
  readonly filterLimits?: FilterLimits;
}

export type Record_ = Record<string, JsonValue>;

/**
 * Row groups' statistics by column, built once per row group: footers are cached, so their row
 * group objects outlive a query, and rebuilding the map for every query was a few ms a lookup.
 */
const statsByRowGroup = new WeakMap<RowGroup, (column: string) => ColumnStats | undefined>();

/** Rows a scan returns from one row group: its decoded columns and the rows' numbers in the file, ascending. */
export interface RowBatch {
  readonly data: ColumnRange;
  readonly rows: Int32Array;
}

/**
 * A file of a broad read: its bytes and footer (null when it is larger than the caller takes
 * whole), and `scan` to read it through the engine's own scan instead (a file the caller cannot
 * decode: too large, or of another schema version) — same stats, same limit.
 */
export interface BroadFile {
  readonly key: string;
  readonly whole: { readonly bytes: Uint8Array; readonly metadata: FileMetaData } | null;
  scan(): AsyncGenerator<RowBatch, boolean>;
}

/** A query's answer as column batches: its columns in order, with their types, then the batches. */
export interface ColumnAnswer {
  readonly fields: readonly Field[];
  readonly batches: AsyncGenerator<RowBatch>;
}

/** Records (one object per row, values converted for JSON) of a scan's batches. */
async function* recordsOf(batches: AsyncIterable<RowBatch>, plan: ScanPlan): AsyncGenerator<Record_> {
  const { select, converters } = plan;
  const convs = select.map((c) => converters.get(c)!);
  for await (const { data, rows } of batches) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const out: Record_ = {};
      for (let k = 0; k < select.length; k++) out[select[k]!] = convs[k]!(data.get(select[k]!, row) ?? null);
      yield out;
    }
  }
}

/** Column statistics of a row group, by top-level column name. */
function rowGroupStats(rg: RowGroup): (column: string) => ColumnStats | undefined {
  let stats = statsByRowGroup.get(rg);
  if (!stats) statsByRowGroup.set(rg, (stats = buildRowGroupStats(rg)));
  return stats;
}

function buildRowGroupStats(rg: RowGroup): (column: string) => ColumnStats | undefined {
  const byName = new Map<string, ColumnStats>();
  for (const c of rg.columns) {
    const md = c.meta_data;
    if (!md || md.path_in_schema.length !== 1 || !md.statistics) continue;
    const s = md.statistics;
    byName.set(md.path_in_schema[0]!, {
      // Only the current min_value/max_value: the deprecated min/max used signed byte order for
      // strings, which would prune wrongly on non-ASCII text.
      ...(s.min_value !== undefined && s.min_value !== null ? { min: s.min_value } : {}),
      ...(s.max_value !== undefined && s.max_value !== null ? { max: s.max_value } : {}),
      ...(s.null_count !== undefined ? { nullCount: s.null_count } : {}),
      rowCount: rg.num_rows,
    });
  }
  return (column) => byName.get(column);
}

function keyValue(metadata: FileMetaData, key: string): string | undefined {
  return metadata.key_value_metadata?.find((kv) => kv.key === key)?.value ?? undefined;
}

/** Files known to be gone that an engine remembers (then it forgets them all and learns again). */
const MAX_MISSING_REMEMBERED = 100_000;

/** A file to scan: its size, and its event-time range when the write log gave it. */
interface Candidate {
  readonly key: string;
  readonly size: number;
  readonly minTimeNs?: bigint;
  readonly maxTimeNs?: bigint;
  /** The file's trace index from the write log, when it has one. */
  readonly index?: FileIndex;
}

interface Located {
  readonly partition: string;
  readonly files: readonly Candidate[];
}

/** What a scan needs to know, whatever found the files (a dataset's catalog, or files' footers). */
export interface ScanPlan {
  readonly expr: Expr | null;
  /** Every column to read: the selected ones plus the filter's. */
  readonly columns: readonly string[];
  readonly select: readonly string[];
  readonly filterCols: readonly string[];
  readonly converters: ReadonlyMap<string, Converter>;
  readonly pinned: { readonly column: string; readonly values: string[] } | null;
  /**
   * The column a trace index may cover that the filter pins to literal values (AND-ed `=` /
   * `IN`), or null: only then can a file's index rule it out.
   */
  readonly indexed?: string | null;
  readonly limit: number;
  /** Columns computed from stored ones where a file lacks them (derived-columns.ts). */
  readonly derived?: readonly DerivedColumn[];
}

/** A plan from a parsed filter and the column catalog it was parsed against. */
export function makeScanPlan(o: {
  expr: Expr | null;
  columns: readonly string[];
  select: readonly string[];
  converters: ReadonlyMap<string, Converter>;
  filterColumns: ColumnCatalog;
  /** Columns the files are sorted by: equality filters on them use the page index. */
  sortedBy?: readonly string[];
  /** The column the dataset's trace index covers, if any. */
  indexColumn?: string;
  limit?: number | undefined;
  derived?: readonly DerivedColumn[];
}): ScanPlan {
  return {
    expr: o.expr,
    columns: o.columns,
    select: o.select,
    filterCols: o.expr ? [...columnsOf(o.expr)] : [],
    converters: o.converters,
    pinned: o.expr ? pinnedColumn(o.expr, o.filterColumns, o.sortedBy ?? []) : null,
    indexed: o.expr && o.indexColumn && requiredValues(o.expr, o.indexColumn) ? o.indexColumn : null,
    limit: o.limit ?? Number.POSITIVE_INFINITY,
    ...(o.derived && o.derived.length > 0 ? { derived: o.derived } : {}),
  };
}

/** Where a file is and how big: all a scan needs of a listing or a log entry. */
export type FileAt = Pick<ObjectInfo, 'key' | 'size'>;

/** A file to read records from: its key and size (a write log entry has both). */
export interface FileRef {
  readonly key: string;
  readonly bytes: number;
}

export interface FileQueryOptions {
  readonly dataset: string;
  readonly filter?: string;
  readonly select?: readonly string[];
}

export interface ChangesOptions extends FileQueryOptions {
  /** From `nextCursor` of the previous read; none (or "") reads from the beginning of the log. */
  readonly cursor?: string;
  /** Log entries (flushes) delivered at most; more wait for the next read (`more`). */
  readonly maxEntries?: number;
}

export interface ChangesResult {
  readonly nextCursor: string;
  readonly files: readonly LoggedFile[];
  /** Log entries delivered. */
  readonly entries: number;
  /** Damaged log entries skipped (`log rebuild` records their files again). */
  readonly damaged: readonly string[];
  /** More entries are waiting: read again with `nextCursor` at once. */
  readonly more: boolean;
  /** The new files' records, filtered and projected; may be called once. */
  records(stats?: QueryStats): AsyncGenerator<Record_>;
}

export class QueryEngine {
  private readonly footers: FooterCache;
  /** Page indexes of large files, kept like their footers (as many entries, and bounded in bytes). */
  private readonly pageIndexes: PageIndexCache;
  private readonly catalogs = new Map<DatasetName, DatasetCatalog>();
  private readonly missing = new Set<string>();
  /** The write log this engine reads (for queries and changes). */
  readonly log: WriteLog;

  constructor(private readonly o: QueryEngineOptions) {
    this.footers = new FooterCache(o.footerCacheEntries ?? 512);
    this.pageIndexes = new PageIndexCache(o.footerCacheEntries ?? 512);
    this.log = o.writeLog ?? new WriteLog({ store: o.store, instanceId: 'reader' });
    for (const name of DATASET_NAMES) this.catalogs.set(name, datasetCatalog(name, o.promoted[name]));
  }

  catalog(dataset: string): DatasetCatalog {
    if (!isDatasetName(dataset)) {
      throw new S3ParquetError('INVALID_ARGUMENT', `unknown dataset ${JSON.stringify(dataset)}; expected one of ${DATASET_NAMES.join(', ')}`);
    }
    return this.catalogs.get(dataset)!;
  }

  /** Partition paths of a dataset, `traces/date=…/hour=…`, sorted. */
  async partitions(dataset: string, prefix = ''): Promise<string[]> {
    const cat = this.catalog(dataset);
    if (prefix !== '') checkPartitionPath(prefix);
    return (await listPartitionFiles(this.o.store, cat.dataset, prefix)).map((p) => `${cat.dataset}/${p.partition}`);
  }

  /**
   * Forgets what this engine cached about files under `prefix` (all with ""): another engine
   * over the same store deleted them (the query port's workers each have their own engine).
   */
  forget(prefix: string): void {
    this.footers.forget(prefix);
    this.pageIndexes.forget(prefix);
  }

  /** Deletes every object under a partition; returns how many. Refuses paths that leave the dataset. */
  async deletePartition(dataset: string, path: string): Promise<number> {
    const cat = this.catalog(dataset);
    const clean = checkPartitionPath(path.replace(/\/+$/, ''));
    const prefix = `${cat.dataset}/${clean}/`;
    const keys: string[] = [];
    for await (const info of this.o.store.list(prefix)) keys.push(info.key);
    if (keys.length > 0) await this.o.store.delete(keys);
    this.footers.forget(prefix);
    this.pageIndexes.forget(prefix);
    for (const k of keys) if (k.endsWith('.parquet')) this.forgetMissing(k);
    return keys.length;
  }

  /** Validates a query up front (unknown dataset, column or bad filter → INVALID_ARGUMENT). */
  prepare(q: QueryOptions): { cat: DatasetCatalog; expr: Expr | null; columns: string[]; select: string[] } {
    const cat = this.catalog(q.dataset);
    if (q.partition !== undefined && q.partition !== '') checkPartitionPath(q.partition);
    if (q.limit !== undefined && (!Number.isInteger(q.limit) || q.limit < 0)) {
      throw new S3ParquetError('INVALID_ARGUMENT', `limit must be a whole number >= 0, got ${q.limit}`);
    }
    const select = q.select && q.select.length > 0 ? [...q.select] : [...cat.columns];
    for (const c of select) {
      if (!cat.converters.has(c)) throw new S3ParquetError('INVALID_ARGUMENT', `unknown column ${JSON.stringify(c)} in select; the ${cat.dataset} columns are ${cat.columns.join(', ')}`);
    }
    let expr = q.filter && q.filter.trim() !== '' ? parseFilter(q.filter, cat.filterColumns, this.o.filterLimits) : null;
    // A resource attribute with a dedicated column (schema v2) is read from it, and from the map for v1 files.
    if (expr !== null) expr = resourceColumnsInFilter(expr, cat.promoted);
    const time = cat.eventTimeColumn;
    const range: Expr[] = [];
    if (q.start !== undefined) range.push({ kind: 'cmp', op: '>=', column: { name: time, type: 'timestamp' }, value: q.start });
    if (q.end !== undefined) range.push({ kind: 'cmp', op: '<', column: { name: time, type: 'timestamp' }, value: q.end });
    for (const r of range) expr = expr === null ? r : ({ kind: 'and', left: expr, right: r });
    const columns = new Set(select);
    if (expr) for (const c of columnsOf(expr)) columns.add(c);
    return { cat, expr, columns: [...columns], select };
  }

  /**
   * Records of a dataset matching `q`. Files come from the write log when it is complete (no
   * partition listing), else from a listing; both are pruned by partition path and time range.
   */
  async *query(q: QueryOptions, stats: QueryStats = emptyStats()): AsyncGenerator<Record_> {
    const plan = this.plan(q);
    yield* recordsOf(this.scanDataset(plan, q, stats), plan);
  }

  /**
   * The answer of `query` as column batches, for serialisers that write straight from the
   * decoded arrays (no object per row). Throws on a bad query before any read.
   */
  queryColumns(q: QueryOptions, stats: QueryStats = emptyStats()): ColumnAnswer {
    const plan = this.plan(q);
    return { fields: this.fieldsOf(plan), batches: this.scanDataset(plan, q, stats) };
  }

  /**
   * A broad read — no filter and no time range — as whole files in scan order, with their
   * footers: for decoders that take a whole file (parquet-wasm decodes a broad `select *` to
   * Arrow several times faster than the value-by-value scan). Null when the query filters:
   * then only the scan (`queryColumns`) prunes and evaluates. Counts files, bytes and requests;
   * the caller counts the rows and row groups it decodes itself. Files larger than
   * `maxFileBytes` are not read: they come back without bytes, for the caller to `scan`.
   */
  broadFiles(q: QueryOptions, stats: QueryStats, maxFileBytes: number): { fields: Field[]; derived: readonly DerivedColumn[]; files: AsyncGenerator<BroadFile> } | null {
    const plan = this.plan(q);
    if (plan.expr !== null) return null;
    return { fields: this.fieldsOf(plan), derived: plan.derived ?? [], files: this.wholeFiles(plan, q, stats, maxFileBytes) };
  }

  private async *wholeFiles(plan: ScanPlan & { readonly dataset: DatasetName }, q: QueryOptions, stats: QueryStats, maxFileBytes: number): AsyncGenerator<BroadFile> {
    const started = performance.now();
    const counter: ReadCounter = { bytesRead: 0, requests: 0 };
    const hits0 = this.footers.hits;
    try {
      if (plan.limit === 0) return;
      for (const { files } of await this.locate(plan.dataset, q.partition ?? '', stats)) {
        stats.partitions_considered++;
        for (const info of files) {
          if (stats.rows_returned >= plan.limit) return;
          const scan = (): AsyncGenerator<RowBatch, boolean> => this.scanFile(plan, info, {}, stats, counter);
          if (info.size > maxFileBytes || this.missing.has(info.key)) {
            yield { key: info.key, whole: null, scan };
            continue;
          }
          let bytes: Uint8Array;
          try {
            bytes = await this.o.store.get(info.key);
          } catch (err) {
            // Named by the log (or listed) but gone: the scan counts it missing.
            if (await this.o.store.head(info.key).catch(() => 'unknown')) throw err;
            yield { key: info.key, whole: null, scan };
            continue;
          }
          stats.files_considered++;
          counter.bytesRead += bytes.byteLength;
          counter.requests++;
          const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
          const metadata = await this.footers.get(info.key, { byteLength: buffer.byteLength, slice: async (a: number, b?: number) => buffer.slice(a, b) });
          // The scan counts the file itself: undo this count if the caller scans it after all.
          yield {
            key: info.key,
            whole: { bytes, metadata },
            scan: () => {
              stats.files_considered--;
              return scan();
            },
          };
        }
      }
    } finally {
      this.finish(stats, counter, hits0, started);
    }
  }

  /**
   * Records of the given files (in that order) matching `q.filter`, with `q.select`'s columns:
   * the scan `query` does, for callers that already know the files (incremental reads).
   */
  async *queryFiles(q: FileQueryOptions, files: readonly FileRef[], stats: QueryStats = emptyStats()): AsyncGenerator<Record_> {
    const plan = this.filesPlan(q, files);
    yield* recordsOf(this.scanBatches(files.map((f) => ({ key: f.key, size: f.bytes })), plan, stats), plan);
  }

  /** The answer of `queryFiles` as column batches (see `queryColumns`). */
  queryFilesColumns(q: FileQueryOptions, files: readonly FileRef[], stats: QueryStats = emptyStats()): ColumnAnswer {
    const plan = this.filesPlan(q, files);
    return { fields: this.fieldsOf(plan), batches: this.scanBatches(files.map((f) => ({ key: f.key, size: f.bytes })), plan, stats) };
  }

  /**
   * Reads files whose schema the caller derived (the library's reads of any record set): the same
   * footer, bloom, row-group and late-materialisation pruning, without a dataset catalog.
   */
  async *scanFiles(files: Iterable<FileAt>, plan: ScanPlan, stats: QueryStats = emptyStats()): AsyncGenerator<Record_> {
    yield* recordsOf(this.scanBatches(files, plan, stats), plan);
  }

  private async *scanDataset(plan: ScanPlan & { readonly dataset: DatasetName }, q: QueryOptions, stats: QueryStats): AsyncGenerator<RowBatch> {
    const started = performance.now();
    const counter: ReadCounter = { bytesRead: 0, requests: 0 };
    const hits0 = this.footers.hits;
    const timeParts = partitionsForRange(this.o.layout, q.start, q.end);
    try {
      if (plan.limit === 0) return;
      for (const { partition, files } of await this.locate(plan.dataset, q.partition ?? '', stats)) {
        stats.partitions_considered++;
        if (timeParts && !timeParts.has(timePart(this.o.layout, partition))) {
          stats.partitions_pruned++;
          continue;
        }
        const keys = partitionKeys(partition);
        if (plan.expr && !mightMatch(plan.expr, (c) => (keys.has(c) ? exactStats(keys.get(c)!) : undefined))) {
          stats.partitions_pruned++;
          continue;
        }
        for (const file of files) {
          if (yield* this.scanFile(plan, file, q, stats, counter)) return;
        }
      }
    } finally {
      this.finish(stats, counter, hits0, started);
    }
  }

  private async *scanBatches(files: Iterable<FileAt>, plan: ScanPlan, stats: QueryStats): AsyncGenerator<RowBatch> {
    const started = performance.now();
    const counter: ReadCounter = { bytesRead: 0, requests: 0 };
    const hits0 = this.footers.hits;
    try {
      if (plan.limit === 0) return;
      for (const info of files) {
        if (yield* this.scanFile(plan, { key: info.key, size: info.size }, {}, stats, counter)) return;
      }
    } finally {
      this.finish(stats, counter, hits0, started);
    }
  }

  private filesPlan(q: FileQueryOptions, files: readonly FileRef[]): ScanPlan & { readonly dataset: DatasetName } {
    const plan = this.plan({ dataset: q.dataset, ...(q.filter !== undefined ? { filter: q.filter } : {}), ...(q.select !== undefined ? { select: q.select } : {}) });
    const outside = files.find((f) => !f.key.startsWith(`${plan.dataset}/`));
    if (outside) throw new S3ParquetError('INVALID_ARGUMENT', `file ${JSON.stringify(outside.key)} is not in dataset ${plan.dataset}`);
    return plan;
  }

  /** The answer's columns with their types in the dataset's schema. */
  private fieldsOf(plan: ScanPlan & { readonly dataset: DatasetName }): Field[] {
    const schema = this.catalog(plan.dataset).schema;
    return plan.select.map((c) => schema.fields.find((f) => f.name === c)!);
  }

  /** A file's footer (cached), e.g. to learn its schema before planning a read. */
  footer(info: FileAt, counter: ReadCounter = { bytesRead: 0, requests: 0 }): Promise<FileMetaData> {
    return this.footers.get(info.key, storeBuffer(this.o.store, info.key, info.size, counter));
  }

  /**
   * What is new in a dataset since `cursor` (from the beginning of its write log without one):
   * the new files and the next cursor, known before any record is read, and `records()` to
   * stream their records (filtered, projected) through the same scan as `query`.
   */
  async changes(o: ChangesOptions): Promise<ChangesResult> {
    const q: FileQueryOptions = { dataset: o.dataset, ...(o.filter !== undefined ? { filter: o.filter } : {}), ...(o.select !== undefined ? { select: o.select } : {}) };
    const { cat } = this.prepare(q); // bad dataset, column or filter: before the log is read
    const c = await this.log.changes(cat.dataset, o.cursor, { maxEntries: o.maxEntries ?? this.o.maxEntriesPerRead ?? DEFAULT_MAX_ENTRIES_PER_READ });
    return {
      nextCursor: c.nextCursor,
      files: c.files,
      entries: c.entries.length,
      damaged: c.damaged,
      more: c.more,
      records: (stats?: QueryStats) => this.queryFiles(q, c.files.map((f) => ({ key: f.key, bytes: f.bytes })), stats),
    };
  }

  private plan(q: QueryOptions): ScanPlan & { readonly dataset: DatasetName } {
    const { cat, expr, columns, select } = this.prepare(q);
    return {
      dataset: cat.dataset,
      ...makeScanPlan({ expr, columns, select, converters: cat.converters, filterColumns: cat.filterColumns, sortedBy: DATASETS[cat.dataset].storage.sortBy, ...(INDEX_COLUMNS[cat.dataset] ? { indexColumn: INDEX_COLUMNS[cat.dataset]! } : {}), limit: q.limit, derived: cat.derived }),
    };
  }

  private finish(stats: QueryStats, counter: ReadCounter, hits0: number, started: number): void {
    stats.bytes_read = counter.bytesRead;
    stats.read_requests = counter.requests;
    stats.footer_cache_hits = this.footers.hits - hits0;
    stats.elapsed_ms = Math.round(performance.now() - started);
    this.o.onQuery?.(stats);
  }

  /**
   * The files to consider, grouped by partition in path order: from the write log when it is
   * complete, else from a listing (counted in `list_requests` either way).
   */
  private async locate(dataset: string, prefix: string, stats: QueryStats): Promise<Located[]> {
    if (this.o.useLogForQueries !== false) {
      const view = await this.log.view(dataset);
      stats.list_requests += view.listRequests;
      if (view.complete) {
        const root = `${dataset}/`;
        const groups = new Map<string, Candidate[]>();
        let n = 0;
        for (const f of view.files) {
          const rel = f.key.slice(root.length);
          if (!rel.startsWith(prefix)) continue;
          const slash = rel.lastIndexOf('/');
          const partition = slash < 0 ? '' : rel.slice(0, slash);
          let list = groups.get(partition);
          if (!list) groups.set(partition, (list = []));
          list.push({ key: f.key, size: f.bytes, minTimeNs: f.minTimeNs, maxTimeNs: f.maxTimeNs, ...(f.index ? { index: f.index } : {}) });
          n++;
        }
        stats.files_from_log += n;
        stats.list_requests_avoided += listPages(n);
        return [...groups.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([partition, files]) => ({ partition, files: files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) }));
      }
      this.o.onLogFallback?.(dataset, view.reason);
    }
    const listed = { objects: 0 };
    const groups = await listPartitionFiles(this.o.store, dataset, prefix, listed);
    stats.list_requests += listPages(listed.objects);
    // Files a compaction replaced stay for a grace: a listing must not read them beside their merge.
    const replaced = await pendingDeleteKeys(this.o.store, dataset);
    return groups.map((g) => ({ partition: g.partition, files: g.files.filter((f) => !replaced.has(f.key)).map((f) => ({ key: f.key, size: f.size })) }));
  }

  /** Scans one file; returns true once the query's limit is reached. */
  private async *scanFile(plan: ScanPlan, info: Candidate, q: { start?: bigint; end?: bigint }, stats: QueryStats, counter: ReadCounter): AsyncGenerator<RowBatch, boolean> {
    const { expr, columns, select, filterCols, pinned, limit } = plan;
    stats.files_considered++;
    if (info.minTimeNs !== undefined && info.maxTimeNs !== undefined && ((q.start !== undefined && info.maxTimeNs < q.start) || (q.end !== undefined && info.minTimeNs >= q.end))) {
      stats.files_pruned++; // the log's time range: no footer read
      return false;
    }
    if (plan.indexed && expr) {
      const verdict = indexVerdict(info.index, plan.indexed, expr);
      if (verdict === 'pruned') {
        stats.files_pruned++;
        stats.files_pruned_by_index++;
        return false;
      }
      if (verdict === 'unindexed') stats.files_unindexed++;
    }
    if (this.missing.has(info.key)) {
      stats.files_missing++;
      return false;
    }
    const whole = wholeWhenSmall(storeBuffer(this.o.store, info.key, info.size, counter));
    // A large file not seen before: its tail in one read, for the footer and the page index.
    const tail = info.size > WHOLE_FILE_BYTES && !this.footers.has(info.key, info.size) ? new PrefetchBuffer(whole) : null;
    let metadata: FileMetaData;
    try {
      if (tail) await tail.prefetch([{ start: Math.max(0, info.size - TAIL_FETCH_BYTES), end: info.size }]);
      metadata = await this.footers.get(info.key, tail ?? whole);
    } catch (err) {
      // Named by the log (or listed) but gone: deleted, or an orphan a crash recovery removed.
      if (await this.o.store.head(info.key).catch(() => 'unknown')) throw err;
      this.forgetMissing(info.key);
      stats.files_missing++;
      return false;
    }
    if (this.fileOutsideRange(metadata, q.start, q.end)) {
      stats.files_pruned++;
      return false;
    }
    if (expr && !bloomAllows(metadata, expr)) {
      stats.files_pruned++;
      stats.files_pruned_by_bloom++;
      return false;
    }
    // A large file's reads go through its page index (one cached region) and merged prefetches;
    // a small one is in memory already.
    const file = info.size > WHOLE_FILE_BYTES ? new PrefetchBuffer(whole, await this.pageIndexes.get(info.key, tail ?? whole, metadata)) : whole;
    const present = new Set(metadata.schema.slice(1).map((e) => e.name));
    // A column this file does not store but derives (schema/derived.ts): its summands are read instead.
    const derive = toDerive(plan.derived, columns, present);
    const read = storedColumns(columns, derive, present);
    const selected = storedColumns(select, derive, present);
    const probed = storedColumns(filterCols, derive, present);
    const probeDerive = derive.filter((d) => filterCols.includes(d.name));
    let rowStart = 0;
    let groupsKept = 0;
    for (const rg of metadata.row_groups) {
      // The previous group's pages are decoded: let their bytes go (the page index stays).
      if (file instanceof PrefetchBuffer) file.release();
      const rowEnd = rowStart + Number(rg.num_rows);
      stats.row_groups_considered++;
      if (expr && !mightMatch(expr, withDerivedStats(rowGroupStats(rg), derive))) {
        stats.row_groups_pruned++;
        rowStart = rowEnd;
        continue;
      }
      groupsKept++;
      const groupStart = rowStart;
      rowStart = rowEnd;
      // Late materialisation: read only the filter's columns first; the selected columns
      // are then read for the span of rows that matched (with the offset index, only the
      // pages covering it), which is what makes selective filters and lookups cheap.
      let first = groupStart;
      let last = rowEnd;
      let matches: Uint8Array | null = null;
      if (pinned && present.has(pinned.column)) {
        // An equality (or IN) on a column the file is sorted or paged by: the page index
        // finds the candidate rows without decoding the whole column.
        const hits = await parquetReadObjects({
          file,
          metadata,
          columns: [pinned.column],
          rowStart: groupStart,
          rowEnd,
          filter: { [pinned.column]: { $in: pinned.values } },
          usePageIndex: true,
          includeRowIndex: true,
          compressors,
          parsers: PARSERS,
          utf8: true,
        });
        stats.rows_scanned += hits.length;
        if (hits.length === 0) continue;
        const positions = hits.map((h) => h[rowIndex] ?? groupStart);
        first = Math.min(...positions);
        last = Math.max(...positions) + 1;
      } else if (expr && probed.length > 0) {
        const probe = addDerived(await readColumnRange(file, metadata, { rowGroup: rg, groupStart }, probed, groupStart, rowEnd), probeDerive, groupStart, rowEnd);
        const hits = new Uint8Array(rowEnd - groupStart);
        let lo = -1;
        let hi = -1;
        for (let row = groupStart; row < rowEnd; row++) {
          if (!evaluate(expr, (c) => (probe.get(c, row) ?? null))) continue;
          hits[row - groupStart] = 1;
          if (lo < 0) lo = row;
          hi = row;
        }
        stats.rows_scanned += rowEnd - groupStart;
        if (lo < 0) continue;
        matches = hits;
        first = lo;
        last = hi + 1;
      }
      const stored = matches
        ? await readMatchedRows(file, metadata, { rowGroup: rg, groupStart }, selected, matches, first, last)
        : await readColumnRange(file, metadata, { rowGroup: rg, groupStart }, read, first, last);
      const data = derive.length > 0 ? addDerived(stored, derive, first, last) : stored;
      // The rows to return, up to the query's limit; no object per row (the caller serialises
      // from the column arrays, or makes records).
      const room = limit - stats.rows_returned;
      const rows = new Int32Array(Math.min(last - first, room));
      let n = 0;
      if (matches) {
        for (let row = first; row < last && n < rows.length; row++) if (matches[row - groupStart]) rows[n++] = row;
      } else if (expr) {
        for (let row = first; row < last && n < rows.length; row++) {
          stats.rows_scanned++;
          if (evaluate(expr, (c) => (data.get(c, row) ?? null))) rows[n++] = row;
        }
      } else {
        for (; n < rows.length; n++) rows[n] = first + n;
        stats.rows_scanned += n;
      }
      if (n > 0) {
        stats.rows_returned += n;
        yield { data, rows: n === rows.length ? rows : rows.subarray(0, n) };
      }
      if (stats.rows_returned >= limit) return true;
    }
    if (groupsKept === 0) stats.files_pruned++;
    return false;
  }

  /** Remembers a file known to be gone (bounded), so later queries skip it without a request. */
  private forgetMissing(key: string): void {
    if (this.missing.size >= MAX_MISSING_REMEMBERED) this.missing.clear();
    this.missing.add(key);
  }

  private fileOutsideRange(metadata: FileMetaData, start?: bigint, end?: bigint): boolean {
    if (start === undefined && end === undefined) return false;
    const min = keyValue(metadata, FOOTER_KEYS.minEventTime);
    const max = keyValue(metadata, FOOTER_KEYS.maxEventTime);
    if (min === undefined || max === undefined) return false;
    return (start !== undefined && BigInt(max) < start) || (end !== undefined && BigInt(min) >= end);
  }
}

/**
 * The values a column must take for the expression to hold (`col = 'x'` or `col IN (…)`,
 * possibly under ANDs), or null when the expression does not pin the column down.
 */
function requiredValues(expr: Expr, column: string): string[] | null {
  switch (expr.kind) {
    case 'cmp':
      return expr.op === '=' && expr.column.name === column && expr.column.key === undefined && typeof expr.value === 'string' ? [expr.value] : null;
    case 'in':
      return !expr.not && expr.column.name === column && expr.column.key === undefined && expr.values.every((v) => typeof v === 'string') ? (expr.values as string[]) : null;
    case 'and':
      return requiredValues(expr.left, column) ?? requiredValues(expr.right, column);
    default:
      return null;
  }
}

/**
 * The first string column files are sorted by (a dataset's storage layout) that the filter pins
 * to literal values (AND-ed `=` / `IN`), if any. Only on a sorted column do the matching rows
 * cluster, so that the page index skips pages and the rows to read form one narrow range; on
 * any other column the probe of the filter's columns is cheaper.
 */
function pinnedColumn(expr: Expr, filterColumns: ColumnCatalog, sortedBy: readonly string[]): { column: string; values: string[] } | null {
  for (const column of sortedBy) {
    if (filterColumns.get(column) !== 'string') continue;
    const values = requiredValues(expr, column);
    if (values) return { column, values };
  }
  return null;
}

/**
 * What a file's trace index says of a lookup pinning `column`: the file cannot hold a match
 * ('pruned'), it may ('candidate'), or the file has no usable index for the column
 * ('unindexed': open it, as without an index).
 */
function indexVerdict(index: FileIndex | undefined, column: string, expr: Expr): 'pruned' | 'candidate' | 'unindexed' {
  const bloom = index && index.column === column ? index.bloom : null;
  if (!bloom) return 'unindexed';
  const values = requiredValues(expr, column);
  if (values === null) return 'unindexed';
  return values.some((v) => bloom.mightContain(v)) ? 'candidate' : 'pruned';
}

/** False when the file's footer bloom filter proves no row can match the filter's `=`/`IN` on its column. */
function bloomAllows(metadata: FileMetaData, expr: Expr): boolean {
  const bloom = parseBloom(keyValue(metadata, FOOTER_KEYS.traceIdBloom));
  if (bloom === null) return true;
  const values = requiredValues(expr, keyValue(metadata, FOOTER_KEYS.bloomColumn) ?? 'trace_id');
  return values === null || values.some((v) => bloom.mightContain(v));
}

function exactStats(value: string | null): ColumnStats {
  return value === null ? { nullCount: 1, rowCount: 1 } : { min: value, max: value, nullCount: 0, rowCount: 1 };
}
