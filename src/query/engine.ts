/**
 * The query engine over the store: prunes partitions by path (time range and Hive keys), then
 * files and row groups by footer statistics, then reads only the needed columns of the remaining
 * row groups with byte-range requests and filters rows. Results stream as an async iterable, so
 * a caller holds one row group at a time however large the result.
 */
import { parquetReadObjects, rowIndex, type FileMetaData, type RowGroup } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { S3ParquetError } from '../errors.js';
import { DATASET_NAMES, DATASETS, isDatasetName, type DatasetName } from '../schema/datasets.js';
import type { PromotedSpec } from '../schema/promoted.js';
import type { ObjectStore } from '../store/object-store.js';
import { FOOTER_KEYS } from '../pipeline/file-writer.js';
import { parseBloom } from '../parquet/bloom.js';
import { datasetCatalog, type DatasetCatalog } from './catalog.js';
import { columnsOf, evaluate, mightMatch, parseFilter, type ColumnStats, type Expr } from './filter/index.js';
import type { JsonValue } from './json-values.js';
import { checkPartitionPath, listPartitionFiles, partitionKeys, partitionsForRange, timePart, type TimeLayout } from './partitions.js';
import { readColumnRange } from './columns.js';
import { FooterCache, PARSERS, storeBuffer, type ReadCounter } from './source.js';

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
  row_groups_considered: number;
  row_groups_pruned: number;
  rows_scanned: number;
  rows_returned: number;
  bytes_read: number;
  read_requests: number;
  footer_cache_hits: number;
  elapsed_ms: number;
}

export function emptyStats(): QueryStats {
  return {
    partitions_considered: 0,
    partitions_pruned: 0,
    files_considered: 0,
    files_pruned: 0,
    files_pruned_by_bloom: 0,
    row_groups_considered: 0,
    row_groups_pruned: 0,
    rows_scanned: 0,
    rows_returned: 0,
    bytes_read: 0,
    read_requests: 0,
    footer_cache_hits: 0,
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
}

export type Record_ = Record<string, JsonValue>;

/** Column statistics of a row group, by top-level column name. */
function rowGroupStats(rg: RowGroup): (column: string) => ColumnStats | undefined {
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

export class QueryEngine {
  private readonly footers: FooterCache;
  private readonly catalogs = new Map<DatasetName, DatasetCatalog>();

  constructor(private readonly o: QueryEngineOptions) {
    this.footers = new FooterCache(o.footerCacheEntries ?? 512);
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

  /** Deletes every object under a partition; returns how many. Refuses paths that leave the dataset. */
  async deletePartition(dataset: string, path: string): Promise<number> {
    const cat = this.catalog(dataset);
    const clean = checkPartitionPath(path.replace(/\/+$/, ''));
    const prefix = `${cat.dataset}/${clean}/`;
    const keys: string[] = [];
    for await (const info of this.o.store.list(prefix)) keys.push(info.key);
    if (keys.length > 0) await this.o.store.delete(keys);
    this.footers.forget(prefix);
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
    let expr = q.filter && q.filter.trim() !== '' ? parseFilter(q.filter, cat.filterColumns) : null;
    const time = cat.eventTimeColumn;
    const range: Expr[] = [];
    if (q.start !== undefined) range.push({ kind: 'cmp', op: '>=', column: { name: time, type: 'timestamp' }, value: q.start });
    if (q.end !== undefined) range.push({ kind: 'cmp', op: '<', column: { name: time, type: 'timestamp' }, value: q.end });
    for (const r of range) expr = expr === null ? r : ({ kind: 'and', left: expr, right: r });
    const columns = new Set(select);
    if (expr) for (const c of columnsOf(expr)) columns.add(c);
    return { cat, expr, columns: [...columns], select };
  }

  async *query(q: QueryOptions, stats: QueryStats = emptyStats()): AsyncGenerator<Record_> {
    const started = performance.now();
    const { cat, expr, columns, select } = this.prepare(q);
    const filterCols = expr ? [...columnsOf(expr)] : [];
    const pinned = expr ? pinnedColumn(expr, cat) : null;
    const limit = q.limit ?? Number.POSITIVE_INFINITY;
    const counter: ReadCounter = { bytesRead: 0, requests: 0 };
    const hits0 = this.footers.hits;
    const timeParts = partitionsForRange(this.o.layout, q.start, q.end);
    const wantedTraceIds = cat.dataset === 'traces' && expr ? requiredValues(expr, 'trace_id') : null;
    try {
      if (limit === 0) return;
      for (const { partition, files } of await listPartitionFiles(this.o.store, cat.dataset, q.partition ?? '')) {
        stats.partitions_considered++;
        if (timeParts && !timeParts.has(timePart(this.o.layout, partition))) {
          stats.partitions_pruned++;
          continue;
        }
        const keys = partitionKeys(partition);
        if (expr && !mightMatch(expr, (c) => (keys.has(c) ? exactStats(keys.get(c)!) : undefined))) {
          stats.partitions_pruned++;
          continue;
        }
        for (const info of files) {
          stats.files_considered++;
          const file = storeBuffer(this.o.store, info.key, info.size, counter);
          const metadata = await this.footers.get(info.key, file);
          if (this.fileOutsideRange(metadata, q.start, q.end)) {
            stats.files_pruned++;
            continue;
          }
          if (wantedTraceIds && !bloomAllows(metadata, wantedTraceIds)) {
            stats.files_pruned++;
            stats.files_pruned_by_bloom++;
            continue;
          }
          const present = new Set(metadata.schema.slice(1).map((e) => e.name));
          const read = columns.filter((c) => present.has(c));
          const selected = select.filter((c) => present.has(c));
          let rowStart = 0;
          let groupsKept = 0;
          for (const rg of metadata.row_groups) {
            const rowEnd = rowStart + Number(rg.num_rows);
            stats.row_groups_considered++;
            if (expr && !mightMatch(expr, rowGroupStats(rg))) {
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
            } else if (expr && filterCols.some((c) => present.has(c))) {
              const probe = await readColumnRange(file, metadata, { rowGroup: rg, groupStart }, filterCols.filter((c) => present.has(c)), groupStart, rowEnd);
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
            const data = await readColumnRange(file, metadata, { rowGroup: rg, groupStart }, matches ? selected : read, first, last);
            for (let row = first; row < last; row++) {
              if (matches) {
                if (!matches[row - groupStart]) continue;
              } else {
                stats.rows_scanned++;
                if (expr && !evaluate(expr, (c) => (data.get(c, row) ?? null))) continue;
              }
              const out: Record_ = {};
              for (const c of select) out[c] = cat.converters.get(c)!(data.get(c, row) ?? null);
              stats.rows_returned++;
              yield out;
              if (stats.rows_returned >= limit) return;
            }
          }
          if (groupsKept === 0) stats.files_pruned++;
        }
      }
    } finally {
      stats.bytes_read = counter.bytesRead;
      stats.read_requests = counter.requests;
      stats.footer_cache_hits = this.footers.hits - hits0;
      stats.elapsed_ms = Math.round(performance.now() - started);
      this.o.onQuery?.(stats);
    }
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
 * The first string column files are sorted by (the dataset's storage layout) that the filter pins
 * to literal values (AND-ed `=` / `IN`), if any. Only on a sorted column do the matching rows
 * cluster, so that the page index skips pages and the rows to read form one narrow range; on
 * any other column the probe of the filter's columns is cheaper.
 */
function pinnedColumn(expr: Expr, cat: DatasetCatalog): { column: string; values: string[] } | null {
  for (const column of DATASETS[cat.dataset].storage.sortBy) {
    if (cat.filterColumns.get(column) !== 'string') continue;
    const values = requiredValues(expr, column);
    if (values) return { column, values };
  }
  return null;
}

function bloomAllows(metadata: FileMetaData, ids: readonly string[]): boolean {
  const bloom = parseBloom(keyValue(metadata, FOOTER_KEYS.traceIdBloom));
  return bloom === null || ids.some((id) => bloom.mightContain(id));
}

function exactStats(value: string | null): ColumnStats {
  return value === null ? { nullCount: 1, rowCount: 1 } : { min: value, max: value, nullCount: 0, rowCount: 1 };
}
