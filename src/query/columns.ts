/**
 * Columns of a row range as hyparquet decodes them — a few arrays per column, one per run of
 * pages — without the object per row that `parquetReadObjects` builds: a filter is evaluated on
 * the column values, and objects are made only for the rows a query returns (a selective filter
 * over a file keeps a few hundred of its tens of thousands of rows).
 */
import { parquetRead, type AsyncBuffer, type ColumnData, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { PARSERS } from './source.js';

interface Chunk {
  readonly start: number;
  readonly end: number;
  readonly values: ArrayLike<unknown>;
}

/** Values by absolute row number; reads are fastest in ascending row order. */
export class ColumnRange {
  private readonly cursors = new Map<string, number>();

  constructor(private readonly chunks: ReadonlyMap<string, readonly Chunk[]>) {}

  /** The value of `column` at `row`; undefined for a column the file lacks or a row outside the range. */
  get(column: string, row: number): unknown {
    const list = this.chunks.get(column);
    if (list === undefined) return undefined;
    let i = this.cursors.get(column) ?? 0;
    if (i >= list.length || row < list[i]!.start) i = 0;
    while (i < list.length && row >= list[i]!.end) i++;
    this.cursors.set(column, i);
    const chunk = list[i];
    return chunk !== undefined && row >= chunk.start ? chunk.values[row - chunk.start] : undefined;
  }
}

/** Reads `columns` for rows [rowStart, rowEnd) of a file, with the offset index (only the pages needed). */
export async function readColumnRange(file: AsyncBuffer, metadata: FileMetaData, columns: readonly string[], rowStart: number, rowEnd: number): Promise<ColumnRange> {
  const chunks = new Map<string, Chunk[]>();
  for (const c of columns) chunks.set(c, []);
  await parquetRead({
    file,
    metadata,
    columns: [...columns],
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
  for (const list of chunks.values()) list.sort((a, b) => a.start - b.start);
  return new ColumnRange(chunks);
}
