/**
 * What every dataset's batch builder shares: the source (resource, scope) and promoted columns,
 * the event-time bounds of what was appended, byte accounting, and turning the column builders
 * into one RecordBatch in schema order. A dataset only declares its own columns and how a
 * record fills them.
 */
import { Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import type { ColumnBuilder } from './columns.js';
import { SourceColumns } from './common.js';
import { PromotedColumns, splitSpecs, type PromotedSpec } from './promoted.js';

export abstract class DatasetBatchBuilderBase {
  protected readonly source: SourceColumns;
  protected readonly promoted: PromotedColumns;
  private rows = 0;
  minTime = 0n;
  maxTime = 0n;

  constructor(
    promoted: readonly PromotedSpec[],
    private readonly notNull: ReadonlySet<string>,
    /** Records expected (the request's count when the converter knows it): builders start that large. */
    rows?: number,
  ) {
    // One list holds both kinds of promoted columns (promoted.ts): the record's attributes and
    // the resource's (schema version 2), each filled from its own map.
    const split = splitSpecs(promoted);
    this.source = new SourceColumns(rows, split.resource);
    this.promoted = new PromotedColumns(split.attributes, rows);
  }

  get length(): number {
    return this.rows;
  }

  /** Call once per appended record, with its event time. */
  protected countRow(eventTime: bigint): void {
    if (this.rows === 0 || eventTime < this.minTime) this.minTime = eventTime;
    if (this.rows === 0 || eventTime > this.maxTime) this.maxTime = eventTime;
    this.rows++;
  }

  /**
   * Every column builder, in schema order (the promoted columns last, via `promotedColumns`:
   * the record's, then the resource's).
   */
  protected abstract columns(): [string, ColumnBuilder][];

  protected promotedColumns(): [string, ColumnBuilder][] {
    const own: [string, ColumnBuilder][] = this.promoted.specs.map((s, i) => [s.column, this.promoted.builders[i]!]);
    return [...own, ...this.source.resourceEntries()];
  }

  byteSize(): number {
    let n = 0;
    for (const [, b] of this.columns()) n += b.byteSize();
    return n;
  }

  finish(): RecordBatch {
    const cols = this.columns();
    const fields = cols.map(([name, b]) => new Field(name, b.type, !this.notNull.has(name)));
    const data = makeData({ type: new Struct(fields), length: this.rows, nullCount: 0, children: cols.map(([, b]) => b.finish()) });
    return new RecordBatch(new Schema(fields), data);
  }
}
