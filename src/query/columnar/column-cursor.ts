/**
 * A column's value at ascending row numbers, straight from the decoded chunks of a
 * `ColumnRange` (one array per run of pages): the serialisers' way through a row group without
 * a lookup per value.
 */
import type { Chunk, ColumnRange } from '../columns.js';

export class ColumnCursor {
  private chunks: readonly Chunk[] | undefined = undefined;
  private index = 0;
  private values: ArrayLike<unknown> | undefined = undefined;
  private constant: unknown = null;
  private start = 0;
  private end = 0;

  constructor(private readonly column: string) {}

  /** Start over on another row group's columns. */
  reset(data: ColumnRange): void {
    this.chunks = data.chunksOf(this.column);
    this.index = 0;
    this.values = undefined;
    this.constant = null;
    this.start = 0;
    this.end = 0; // the first `at` looks for its chunk
  }

  /** The value at `row` (rows asked for in ascending order); null where the file has none. */
  at(row: number): unknown {
    if (row >= this.end || row < this.start) this.seek(row);
    const v = this.values !== undefined ? this.values[row - this.start] : this.constant;
    return v === undefined ? null : v;
  }

  private seek(row: number): void {
    const list = this.chunks;
    if (list === undefined) {
      // A column this file lacks: null in every row.
      this.values = undefined;
      this.constant = null;
      this.start = Number.NEGATIVE_INFINITY;
      this.end = Number.POSITIVE_INFINITY;
      return;
    }
    let i = row < this.start ? 0 : this.index;
    while (i < list.length && row >= list[i]!.end) i++;
    this.index = i;
    const chunk = list[i];
    if (chunk === undefined || row < chunk.start) {
      // No chunk holds this row: null for it alone.
      this.values = undefined;
      this.constant = null;
      this.start = row;
      this.end = row + 1;
      return;
    }
    this.values = chunk.values;
    this.constant = chunk.values === undefined ? chunk.constant : null;
    this.start = chunk.start;
    this.end = chunk.end;
  }
}
