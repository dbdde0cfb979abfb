/**
 * A few rows of a nested (list / map / struct) column, without assembling the rest of its pages.
 *
 * hyparquet turns a whole data page into rows (`assembleLists`: one array per row, then one
 * object per row and level) before the rows asked for are cut out. parquet-wasm cannot bound the
 * rows of a page whose encoded bytes stay small — a span's `events`, mostly empty, is one page
 * of 8,192 rows per row group — so a trace lookup built 8,192 rows of events (with their
 * attribute maps) per row group to return eight: ~30 % of its CPU, most of it garbage
 * collection (bench/LAKE.md, session 3).
 *
 * Here each leaf's pages are decoded as hyparquet does (its own page, level and dictionary
 * decoders), but the repetition levels are walked to find where the wanted rows begin and end,
 * and only that slice of levels and values is assembled. Leaves are then put together by
 * hyparquet's `assembleNested`, as its reader does. Anything this does not cover (no offset
 * index, data page v2, a page not starting at a row) returns undefined: the caller reads the
 * column the usual way.
 */
import type { AsyncBuffer, ColumnChunk, Compressors, DecodedArray, ParquetParsers, RowGroup, SchemaTree } from 'hyparquet';
import { assembleLists, assembleNested } from 'hyparquet/src/assemble.js';
import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS, convert, convertWithDictionary } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage } from 'hyparquet/src/datapage.js';
import { getMaxDefinitionLevel, getTreePath } from 'hyparquet/src/schema.js';
import { pageLocations, type PageIndexRegion } from './page-index.js';

export interface NestedReadOptions {
  readonly compressors: Compressors;
  readonly parsers: Partial<ParquetParsers>;
  readonly utf8: boolean;
}

type ColumnDecoder = Parameters<typeof readDataPage>[2];

/**
 * Rows [selectStart, selectEnd) (relative to the row group) of the nested top-level column
 * `node`, one value per row; undefined when this reader does not cover the column's pages.
 */
export async function readNestedRows(
  file: AsyncBuffer,
  schema: SchemaTree,
  rowGroup: RowGroup,
  node: SchemaTree,
  selectStart: number,
  selectEnd: number,
  region: PageIndexRegion,
  options: NestedReadOptions,
): Promise<DecodedArray | undefined> {
  const name = node.element.name;
  const parsers: ParquetParsers = { ...DEFAULT_PARSERS, ...options.parsers };
  const leaves = rowGroup.columns.filter((c) => c.meta_data?.path_in_schema[0] === name);
  if (leaves.length === 0) return undefined;
  const sub = new Map<string, DecodedArray>();
  const rows = await Promise.all(leaves.map((chunk) => readLeafRows(file, schema, rowGroup, chunk, selectStart, selectEnd, region, options, parsers)));
  for (let i = 0; i < leaves.length; i++) {
    const leaf = rows[i];
    if (leaf === undefined) return undefined;
    sub.set(leaves[i]!.meta_data!.path_in_schema.join('.'), leaf);
  }
  assembleNested(sub, node, parsers);
  return sub.get(name);
}

/** One leaf's rows [selectStart, selectEnd) as `assembleLists` makes them (lists per row). */
async function readLeafRows(
  file: AsyncBuffer,
  schema: SchemaTree,
  rowGroup: RowGroup,
  chunk: ColumnChunk,
  selectStart: number,
  selectEnd: number,
  region: PageIndexRegion,
  options: NestedReadOptions,
  parsers: ParquetParsers,
): Promise<DecodedArray | undefined> {
  const md = chunk.meta_data!;
  const pages = pageLocations(chunk, region);
  if (!pages || pages.length === 0) return undefined;
  const schemaPath = getTreePath(schema, md.path_in_schema);
  const decoder: ColumnDecoder = {
    pathInSchema: md.path_in_schema,
    type: md.type,
    element: schemaPath[schemaPath.length - 1]!.element,
    schemaPath,
    codec: md.codec,
    parsers,
    compressors: options.compressors,
    utf8: options.utf8,
  };
  const maxDefinition = getMaxDefinitionLevel(schemaPath);
  const groupRows = Number(rowGroup.num_rows);
  const chunkStart = Number(md.dictionary_page_offset || md.data_page_offset);
  const firstPage = Number(pages[0]!.offset);

  let dictionary: DecodedArray | undefined;
  if (firstPage > chunkStart) {
    const bytes = await file.slice(chunkStart, firstPage);
    const reader = { view: new DataView(bytes), offset: 0 };
    const header = parquetHeader(reader);
    if (header.type !== 'DICTIONARY_PAGE') return undefined;
    const { data } = readPage(reader, header, decoder, undefined, undefined, 0);
    if (data) dictionary = convert(data, decoder);
  }

  const out: unknown[] = [];
  for (let p = 0; p < pages.length; p++) {
    const pageRow = Number(pages[p]!.first_row_index);
    const pageEnd = p + 1 < pages.length ? Number(pages[p + 1]!.first_row_index) : groupRows;
    if (pageEnd <= selectStart || pageRow >= selectEnd) continue;
    const loc = pages[p]!;
    const bytes = await file.slice(Number(loc.offset), Number(loc.offset) + loc.compressed_page_size);
    const reader = { view: new DataView(bytes), offset: 0 };
    const header = parquetHeader(reader);
    const daph = header.data_page_header;
    if (header.type !== 'DATA_PAGE' || !daph) return undefined;
    const compressed = new Uint8Array(bytes, reader.offset, header.compressed_page_size);
    const page = decompressPage(compressed, Number(header.uncompressed_page_size), md.codec, options.compressors);
    const { definitionLevels, repetitionLevels, dataPage } = readDataPage(page, daph, decoder);
    if (repetitionLevels.length === 0 || repetitionLevels[0] !== 0) return undefined; // a page starts a row
    // Walk the levels to the wanted rows: a repetition level of 0 starts a row; a value is
    // stored only where the definition level is the leaf's maximum (no levels: every entry).
    const from = Math.max(selectStart, pageRow);
    const to = Math.min(selectEnd, pageEnd);
    let row = pageRow - 1;
    let first = -1;
    let end = repetitionLevels.length;
    let values = 0;
    let valueFirst = 0;
    const defs = definitionLevels && definitionLevels.length > 0 ? definitionLevels : undefined;
    for (let i = 0; i < repetitionLevels.length; i++) {
      if (repetitionLevels[i] === 0) {
        row++;
        if (row === from) {
          first = i;
          valueFirst = values;
        }
        if (row === to) {
          end = i;
          break;
        }
      }
      if (!defs || defs[i] === maxDefinition) values++;
    }
    if (first < 0) return undefined; // fewer rows in the page than its index says
    const valueEnd = values;
    const converted = convertWithDictionary(dataPage.slice(valueFirst, valueEnd), dictionary, daph.encoding, decoder);
    const assembled = assembleLists([], defs?.slice(first, end), repetitionLevels.slice(first, end), converted, schemaPath);
    if (assembled.length !== to - from) return undefined;
    for (let i = 0; i < assembled.length; i++) out.push(assembled[i]);
  }
  return out.length === selectEnd - selectStart ? out : undefined;
}
