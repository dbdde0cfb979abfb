/**
 * The pages of a flat column that hold some rows, and only those, decoded: late materialisation
 * at page granularity for a selective filter. Its matches are scattered over a row group sorted
 * by something else (a service's errors in a file sorted by trace id: ~30 rows of 8,192), so
 * reading the selected columns for the span from the first match to the last decodes nearly
 * every page; the offset index says which pages hold a match, and the rest are never read.
 *
 * Pages are decoded by hyparquet (`readPage`), the dictionary once per column chunk.
 */
import type { AsyncBuffer, ColumnChunk, Compressors, DecodedArray, ParquetParsers, RowGroup, SchemaTree } from 'hyparquet';
import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS, convert } from 'hyparquet/src/convert.js';
import { getTreePath, isFlatColumn } from 'hyparquet/src/schema.js';
import { pageLocations, type PageIndexRegion } from './page-index.js';
import type { ByteRange } from './prefetch.js';

export interface PageRowsOptions {
  readonly compressors: Compressors;
  readonly parsers: Partial<ParquetParsers>;
  readonly utf8: boolean;
}

/** Decoded values of rows [start, end) of a row group (relative to the group). */
export interface PageValues {
  readonly start: number;
  readonly end: number;
  readonly values: DecodedArray;
}

/** A flat column's pages that hold one of `rows` (ascending, relative to the group). */
export interface PagePlan {
  readonly chunk: ColumnChunk;
  /** [chunk start, first data page) when the chunk has a dictionary page. */
  readonly dictionary: ByteRange | null;
  readonly pages: readonly { readonly start: number; readonly end: number; readonly bytes: ByteRange }[];
}

/**
 * The pages of `column` (a flat top-level column) holding any of `rows`; null when the region
 * has no offset index for it or the column is nested (the caller reads it another way).
 */
export function planPageRows(rowGroup: RowGroup, schema: SchemaTree, column: string, rows: ArrayLike<number>, region: PageIndexRegion): PagePlan | null {
  const chunk = rowGroup.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === column);
  const md = chunk?.meta_data;
  if (!chunk || !md || !isFlatColumn(getTreePath(schema, md.path_in_schema))) return null;
  const locations = pageLocations(chunk, region);
  if (!locations || locations.length === 0) return null;
  const groupRows = Number(rowGroup.num_rows);
  const chunkStart = Number(md.dictionary_page_offset || md.data_page_offset);
  const firstPage = Number(locations[0]!.offset);
  const pages: { start: number; end: number; bytes: ByteRange }[] = [];
  let r = 0;
  for (let p = 0; p < locations.length && r < rows.length; p++) {
    const start = Number(locations[p]!.first_row_index);
    const end = p + 1 < locations.length ? Number(locations[p + 1]!.first_row_index) : groupRows;
    while (r < rows.length && rows[r]! < start) r++;
    if (r < rows.length && rows[r]! < end) {
      const offset = Number(locations[p]!.offset);
      pages.push({ start, end, bytes: { start: offset, end: offset + locations[p]!.compressed_page_size } });
    }
  }
  return { chunk, dictionary: firstPage > chunkStart ? { start: chunkStart, end: firstPage } : null, pages };
}

/** The bytes `readPageRows` will read for `plan`. */
export function pagePlanBytes(plan: PagePlan): ByteRange[] {
  return [...(plan.dictionary ? [plan.dictionary] : []), ...plan.pages.map((p) => p.bytes)];
}

/** Decodes the planned pages, one `PageValues` a page; undefined if a page is not as planned. */
export async function readPageRows(file: AsyncBuffer, schema: SchemaTree, plan: PagePlan, options: PageRowsOptions): Promise<PageValues[] | undefined> {
  const md = plan.chunk.meta_data!;
  const schemaPath = getTreePath(schema, md.path_in_schema);
  const decoder = {
    pathInSchema: md.path_in_schema,
    type: md.type,
    element: schemaPath[schemaPath.length - 1]!.element,
    schemaPath,
    codec: md.codec,
    parsers: { ...DEFAULT_PARSERS, ...options.parsers } as ParquetParsers,
    compressors: options.compressors,
    utf8: options.utf8,
  };
  let dictionary: DecodedArray | undefined;
  if (plan.dictionary) {
    const reader = { view: new DataView(await file.slice(plan.dictionary.start, plan.dictionary.end)), offset: 0 };
    const header = parquetHeader(reader);
    if (header.type !== 'DICTIONARY_PAGE') return undefined;
    const { data } = readPage(reader, header, decoder, undefined, undefined, 0);
    if (data) dictionary = convert(data, decoder);
  }
  const out: PageValues[] = [];
  for (const page of plan.pages) {
    const reader = { view: new DataView(await file.slice(page.bytes.start, page.bytes.end)), offset: 0 };
    const header = parquetHeader(reader);
    if (header.type !== 'DATA_PAGE' && header.type !== 'DATA_PAGE_V2') return undefined;
    const { data } = readPage(reader, header, decoder, dictionary, undefined, 0);
    if (!data || data.length !== page.end - page.start) return undefined;
    out.push({ start: page.start, end: page.end, values: data });
  }
  return out;
}
