/**
 * Columns of a row range as hyparquet decodes them — a few arrays per column, one per run of
 * pages — without the object per row that `parquetReadObjects` builds: a filter is evaluated on
 * the column values, and objects are made only for the rows a query returns (a selective filter
 * over a file keeps a few hundred of its tens of thousands of rows).
 *
 * A list or map column that is empty in every row of the row group (a span's `links`, a scope's
 * attributes, most of a metrics file's histogram columns) is not decoded at all: the level
 * histograms of the column chunk's size statistics (written by parquet-rs) prove it, and
 * assembling tens of thousands of empty lists was most of a trace lookup's time.
 */
import { parquetRead, parquetSchema, type AsyncBuffer, type ColumnData, type FileMetaData, type RowGroup, type SchemaTree } from 'hyparquet';
import { COMPRESSORS as compressors } from '../parquet/decompressors.js';
import { PARSERS } from '../parquet/source.js';
import { PrefetchBuffer } from '../parquet/prefetch.js';
import { rowRangeBytes } from '../parquet/page-index.js';
import { readNestedRows } from '../parquet/nested-rows.js';
import { pagePlanBytes, planPageRows, readPageRows, type PagePlan } from '../parquet/page-rows.js';

/** Decoded values of rows [start, end), or one value for all of them. */
export interface Chunk {
  readonly start: number;
  readonly end: number;
  readonly values?: ArrayLike<unknown>;
  readonly constant?: unknown;
}

/** Values by absolute row number; reads are fastest in ascending row order. */
export class ColumnRange {
  private readonly cursors = new Map<string, number>();

  constructor(private readonly chunks: ReadonlyMap<string, readonly Chunk[]>) {}

  /**
   * The decoded chunks of `column` in ascending row order (undefined for a column the file
   * lacks): for serialisers that walk a column's arrays themselves instead of `get` per value.
   */
  chunksOf(column: string): readonly Chunk[] | undefined {
    return this.chunks.get(column);
  }

  /** This range with `column`'s chunks added (a column readers derive: derived-columns.ts). */
  with(column: string, chunks: readonly Chunk[]): ColumnRange {
    return new ColumnRange(new Map([...this.chunks, [column, chunks]]));
  }

  /** The value of `column` at `row`; undefined for a column the file lacks or a row outside the range. */
  get(column: string, row: number): unknown {
    const list = this.chunks.get(column);
    if (list === undefined) return undefined;
    let i = this.cursors.get(column) ?? 0;
    if (i >= list.length || row < list[i]!.start) i = 0;
    while (i < list.length && row >= list[i]!.end) i++;
    this.cursors.set(column, i);
    const chunk = list[i];
    if (chunk === undefined || row < chunk.start) return undefined;
    return chunk.values ? chunk.values[row - chunk.start] : chunk.constant;
  }
}

const EMPTY_LIST: readonly unknown[] = Object.freeze([]);
const EMPTY_MAP: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The value every row of `group` holds in the nested top-level `column` when that is provably
 * the same empty list / map, else undefined. Every leaf's definition levels must all be the
 * column's own level (defined, no elements) and all repetition levels 0.
 */
export function emptyInEveryRow(schema: SchemaTree, group: RowGroup, column: string): unknown {
  const node = schema.children.find((c) => c.element.name === column);
  if (!node || node.children.length === 0) return undefined;
  const type = node.element.converted_type ?? node.element.logical_type?.type;
  if (type !== 'LIST' && type !== 'MAP') return undefined;
  const level = node.element.repetition_type === 'OPTIONAL' ? 1 : 0;
  const rows = Number(group.num_rows);
  let leaves = 0;
  for (const chunk of group.columns) {
    const md = chunk.meta_data;
    if (!md || md.path_in_schema[0] !== column) continue;
    leaves++;
    const defs = md.size_statistics?.definition_level_histogram;
    const reps = md.size_statistics?.repetition_level_histogram;
    if (!defs || !reps) return undefined;
    for (let l = 0; l < defs.length; l++) if (Number(defs[l]) !== (l === level ? rows : 0)) return undefined;
    for (let l = 0; l < reps.length; l++) if (Number(reps[l]) !== (l === 0 ? rows : 0)) return undefined;
  }
  if (leaves === 0) return undefined;
  return type === 'LIST' ? EMPTY_LIST : EMPTY_MAP;
}

/**
 * Reads `columns` for rows [rowStart, rowEnd) of one row group (starting at row `groupStart` of
 * the file), with the offset index (only the pages needed).
 */
export async function readColumnRange(
  file: AsyncBuffer,
  metadata: FileMetaData,
  group: { readonly rowGroup: RowGroup; readonly groupStart: number },
  columns: readonly string[],
  rowStart: number,
  rowEnd: number,
): Promise<ColumnRange> {
  const chunks = new Map<string, Chunk[]>();
  const decode: string[] = [];
  const schema = parquetSchema(metadata);
  for (const c of columns) {
    const empty = emptyInEveryRow(schema, group.rowGroup, c);
    if (empty === undefined) {
      chunks.set(c, []);
      decode.push(c);
    } else {
      const end = group.groupStart + Number(group.rowGroup.num_rows);
      chunks.set(c, [{ start: group.groupStart, end, constant: empty }]);
    }
  }
  if (decode.length === 0) return new ColumnRange(chunks);
  // All the pages the read will ask for, in a few merged requests rather than one or two per column.
  const selectStart = rowStart - group.groupStart;
  const selectEnd = rowEnd - group.groupStart;
  if (file instanceof PrefetchBuffer) await file.prefetch(rowRangeBytes(group.rowGroup, decode, selectStart, selectEnd, file.pageIndex));
  // A few rows of a nested column: only their slice of each page is assembled (a page of a
  // mostly empty list column holds the whole row group). Whole row groups take hyparquet's path.
  const narrowed = selectStart > 0 || selectEnd < Number(group.rowGroup.num_rows);
  const region = narrowed && file instanceof PrefetchBuffer ? file.pageIndex : null;
  const rest: string[] = [];
  for (const c of decode) {
    const node = region ? schema.children.find((n) => n.element.name === c) : undefined;
    const values =
      region && node && node.children.length > 0
        ? await readNestedRows(file, schema, group.rowGroup, node, selectStart, selectEnd, region, { compressors, parsers: PARSERS, utf8: true })
        : undefined;
    if (values === undefined) rest.push(c);
    else chunks.get(c)!.push({ start: rowStart, end: rowEnd, values });
  }
  if (rest.length > 0) {
    await parquetRead({
      file,
      metadata,
      columns: rest,
      rowStart,
      rowEnd,
      compressors,
      parsers: PARSERS,
      utf8: true,
      useOffsetIndex: true,
      onChunk: (chunk: ColumnData) => {
        chunks.get(chunk.columnName)?.push({ start: chunk.rowStart, end: chunk.rowEnd, values: chunk.columnData as ArrayLike<unknown> });
      },
    });
  }
  for (const list of chunks.values()) list.sort((a, b) => a.start - b.start);
  return new ColumnRange(chunks);
}

/**
 * Reads `columns` for the rows of one row group flagged in `matches` (indexed from the group's
 * first row; the first and last flagged rows are `first` and `last - 1`, absolute): a flat
 * column's pages that hold no flagged row are neither fetched nor decoded (the offset index
 * says which do). Nested columns, and files without a cached page index, are read for the whole
 * span [first, last) as `readColumnRange` does. Values of rows not flagged may be absent.
 */
export async function readMatchedRows(
  file: AsyncBuffer,
  metadata: FileMetaData,
  group: { readonly rowGroup: RowGroup; readonly groupStart: number },
  columns: readonly string[],
  matches: Uint8Array,
  first: number,
  last: number,
): Promise<ColumnRange> {
  if (!(file instanceof PrefetchBuffer) || !file.pageIndex) return readColumnRange(file, metadata, group, columns, first, last);
  const region = file.pageIndex;
  const schema = parquetSchema(metadata);
  const rows: number[] = [];
  for (let r = first - group.groupStart; r < last - group.groupStart; r++) if (matches[r]) rows.push(r);
  const plans = new Map<string, PagePlan>();
  const rest: string[] = [];
  for (const c of columns) {
    const plan = emptyInEveryRow(schema, group.rowGroup, c) === undefined ? planPageRows(group.rowGroup, schema, c, rows, region) : null;
    if (plan) plans.set(c, plan);
    else rest.push(c);
  }
  await file.prefetch([...plans.values()].flatMap(pagePlanBytes));
  const chunks = new Map<string, Chunk[]>();
  const options = { compressors, parsers: PARSERS, utf8: true };
  for (const [c, plan] of plans) {
    const pages = await readPageRows(file, schema, plan, options);
    if (pages === undefined) rest.push(c);
    else chunks.set(c, pages.map((p) => ({ start: group.groupStart + p.start, end: group.groupStart + p.end, values: p.values })));
  }
  if (rest.length > 0) {
    const others = await readColumnRange(file, metadata, group, rest, first, last);
    for (const c of rest) chunks.set(c, [...(others.chunksOf(c) ?? [])]);
  }
  return new ColumnRange(chunks);
}
