/**
 * A file's page index (the column and offset indexes parquet-rs writes after the last row group,
 * before the footer) as one region: read in one request on a file's first lookup and kept, like
 * the footer, in a bounded cache, so later reads find their pages without a request per column.
 * With the offset index in memory, the bytes a read of some rows will need — each column's
 * dictionary page and the data pages covering the rows — are known before hyparquet asks for
 * them, and can be fetched merged (src/parquet/prefetch.ts).
 */
import { readOffsetIndex, type AsyncBuffer, type ColumnChunk, type FileMetaData, type RowGroup } from 'hyparquet';
import type { ByteRange } from './prefetch.js';

/** Bytes of a file's page index and where they start. */
export interface PageIndexRegion {
  readonly start: number;
  readonly bytes: ArrayBuffer;
}

/** Where a file's page index lies: from the first column index to the last offset index's end. */
export function pageIndexRange(metadata: FileMetaData): ByteRange | null {
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const rg of metadata.row_groups) {
    for (const c of rg.columns) {
      if (c.column_index_offset !== undefined && c.column_index_length !== undefined) {
        start = Math.min(start, Number(c.column_index_offset));
        end = Math.max(end, Number(c.column_index_offset) + c.column_index_length);
      }
      if (c.offset_index_offset !== undefined && c.offset_index_length !== undefined) {
        start = Math.min(start, Number(c.offset_index_offset));
        end = Math.max(end, Number(c.offset_index_offset) + c.offset_index_length);
      }
    }
  }
  return end > start ? { start, end } : null;
}

/**
 * Page indexes by key and size, bounded by entries and by bytes (least recently used out first).
 * A region larger than `maxRegionBytes` (a file of hundreds of row groups) is not cached: its
 * reads fall back to one offset-index request per column, as without this cache.
 */
export class PageIndexCache {
  private readonly entries = new Map<string, PageIndexRegion | null>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly capacity = 512,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly maxRegionBytes = 4 * 1024 * 1024,
  ) {}

  /** The file's page index region, read once (null: the file has none, or it is too large to keep). */
  async get(key: string, file: AsyncBuffer, metadata: FileMetaData): Promise<PageIndexRegion | null> {
    const id = `${key}@${file.byteLength}`;
    if (this.entries.has(id)) {
      const hit = this.entries.get(id)!;
      this.hits++;
      this.entries.delete(id); // re-insert: most recently used last
      this.entries.set(id, hit);
      return hit;
    }
    this.misses++;
    const range = pageIndexRange(metadata);
    const region = range && range.end - range.start <= this.maxRegionBytes ? { start: range.start, bytes: await file.slice(range.start, range.end) } : null;
    this.entries.set(id, region);
    this.bytes += region?.bytes.byteLength ?? 0;
    while (this.entries.size > this.capacity || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value!;
      this.bytes -= this.entries.get(oldest)?.bytes.byteLength ?? 0;
      this.entries.delete(oldest);
    }
    return region;
  }

  forget(keyPrefix: string): void {
    for (const id of [...this.entries.keys()]) {
      if (!id.startsWith(keyPrefix)) continue;
      this.bytes -= this.entries.get(id)?.bytes.byteLength ?? 0;
      this.entries.delete(id);
    }
  }
}

/** The page locations of `chunk` from the offset index held in `region` (null: none there). */
export function pageLocations(chunk: ColumnChunk, region: PageIndexRegion) {
  if (chunk.offset_index_offset === undefined || chunk.offset_index_length === undefined) return null;
  const at = Number(chunk.offset_index_offset) - region.start;
  if (at < 0 || at + chunk.offset_index_length > region.bytes.byteLength) return null;
  return readOffsetIndex({ view: new DataView(region.bytes, at, chunk.offset_index_length), offset: 0 }).page_locations;
}

/**
 * The bytes hyparquet reads for rows [selectStart, selectEnd) (relative to the row group) of the
 * given top-level columns: per leaf, the dictionary page and the data pages covering the rows
 * (from the offset index in `region`), or the whole column chunk when the rows are all of the
 * group or the chunk has no offset index — the same ranges hyparquet's planner picks.
 */
export function rowRangeBytes(rowGroup: RowGroup, columns: readonly string[], selectStart: number, selectEnd: number, region: PageIndexRegion | null): ByteRange[] {
  const wanted = new Set(columns);
  const groupRows = Number(rowGroup.num_rows);
  const narrowed = selectStart > 0 || selectEnd < groupRows;
  const out: ByteRange[] = [];
  for (const chunk of rowGroup.columns) {
    const md = chunk.meta_data;
    if (!md || !wanted.has(md.path_in_schema[0]!)) continue;
    const chunkStart = Number(md.dictionary_page_offset || md.data_page_offset);
    const chunkEnd = chunkStart + Number(md.total_compressed_size);
    const pages = narrowed && region ? pageLocations(chunk, region) : null;
    if (!pages || pages.length === 0) {
      out.push({ start: chunkStart, end: chunkEnd });
      continue;
    }
    let first = -1;
    let last = -1;
    for (let i = 0; i < pages.length; i++) {
      const pageStart = Number(pages[i]!.first_row_index);
      const pageEnd = i + 1 < pages.length ? Number(pages[i + 1]!.first_row_index) : groupRows;
      if (first < 0 && pageEnd > selectStart) first = i;
      if (pageStart < selectEnd) last = i;
    }
    if (first < 0) first = 0;
    if (last < first) last = first;
    const firstPage = Number(pages[0]!.offset);
    // The dictionary page sits before the first data page.
    if (firstPage > chunkStart) out.push({ start: chunkStart, end: firstPage });
    out.push({ start: Number(pages[first]!.offset), end: Number(pages[last]!.offset) + pages[last]!.compressed_page_size });
  }
  return out;
}
