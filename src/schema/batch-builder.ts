/**
 * What every dataset's batch builder shares: the source (resource, scope) and promoted columns,
 * the event-time bounds of what was appended, byte accounting, and turning the column builders
 * into one RecordBatch in schema order. A dataset only declares its own columns and how a
 * record fills them.
 */
import { Field, RecordBatch, Schema, Struct, type Data } from 'apache-arrow';
import { structData } from './arrow-data.js';
import { fieldsKey, type ColumnBuilder } from './columns.js';
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

  // Loops, not `map` with an arrow function: these run once per batch, and V8 kept recompiling
  // such per-batch arrows (a third of the steady-state compiles were anonymous; bench/NOTES.md).
  protected promotedColumns(): [string, ColumnBuilder][] {
    const out: [string, ColumnBuilder][] = [];
    const { specs, builders } = this.promoted;
    for (let i = 0; i < specs.length; i++) out.push([specs[i]!.column, builders[i]!]);
    const resource = this.source.resource;
    for (let i = 0; i < resource.specs.length; i++) out.push([resource.specs[i]!.column, resource.builders[i]!]);
    return out;
  }

  byteSize(): number {
    let n = 0;
    for (const [, b] of this.columns()) n += b.byteSize();
    return n;
  }

  finish(): RecordBatch {
    const cols = this.columns();
    const fields: { name: string; type: Field['type']; nullable: boolean }[] = [];
    const children: Data[] = [];
    for (const [name, b] of cols) {
      fields.push({ name, type: b.type, nullable: !this.notNull.has(name) });
      children.push(b.finish());
    }
    const shape = batchShape(fields);
    return new RecordBatch(shape.schema, structData(shape.type, this.rows, 0, undefined, children));
  }
}

/**
 * One Arrow schema (and its struct type) per batch shape — a dataset plan's columns, whose types
 * are the builders' shared instances (columns.ts) — built once and reused by every batch, instead
 * of new `Field`s, `Schema` and `Struct` per batch: less garbage kept while batches wait for
 * their flush, and apache-arrow's code meets the same objects every time. A daemon has a few
 * shapes (datasets × promoted-column settings); past `MAX_SHAPES` new ones are made, not kept.
 */
interface BatchShape {
  readonly schema: Schema;
  readonly type: Struct;
}
const batchShapes = new Map<string, BatchShape>();
const MAX_SHAPES = 64;

function batchShape(fields: readonly { readonly name: string; readonly type: Field['type']; readonly nullable: boolean }[]): BatchShape {
  const key = fieldsKey(fields);
  const known = batchShapes.get(key);
  if (known !== undefined) return known;
  const arrowFields = fields.map((f) => new Field(f.name, f.type, f.nullable));
  const shape = { schema: new Schema(arrowFields), type: new Struct(arrowFields) };
  if (batchShapes.size < MAX_SHAPES) batchShapes.set(key, shape);
  return shape;
}
