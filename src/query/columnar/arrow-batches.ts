/**
 * A query's column batches → one Arrow IPC stream in the dataset's own types (nanosecond
 * timestamps, Int64, Map<Utf8, Utf8>, lists of structs), built from the column arrays with the
 * typed-array builders of src/schema/columns.ts and `makeData`: one record batch per row group
 * read, no record object, no JSON. The answer is gathered (the query port sends the final stats
 * in a header before the bytes); its size counts against the query's memory budget.
 */
import { DataType, Field, makeData, RecordBatch, RecordBatchStreamWriter, Schema, Struct } from 'apache-arrow';
import {
  BoolBuilder,
  Float64Builder,
  Int32Builder,
  Int64Builder,
  StringMapBuilder,
  StructBuilder,
  TimestampNsBuilder,
  Utf8Builder,
  type ColumnBuilder,
} from '../../schema/columns.js';
import { PrimitiveListBuilder } from '../../schema/list-columns.js';
import type { ColumnAnswer, RowBatch } from '../engine.js';
import { converterFor } from '../json-values.js';
import { ColumnCursor } from './column-cursor.js';

/** Bytes per message of the gathered stream handed on. */
const ARROW_CHUNK = 1024 * 1024;

/** A builder and how a decoded Parquet value of its column is appended to it. */
interface Appender {
  readonly builder: ColumnBuilder;
  append(v: unknown): void;
}

export function appenderFor(type: DataType): Appender {
  if (DataType.isUtf8(type)) {
    const b = new Utf8Builder();
    return { builder: b, append: (v) => (typeof v === 'string' ? b.append(v) : v === null || v === undefined ? b.appendNull() : b.append(String(v))) };
  }
  if (DataType.isTimestamp(type)) {
    const b = new TimestampNsBuilder();
    return { builder: b, append: (v) => b.append(typeof v === 'bigint' ? v : v instanceof Date ? BigInt(v.getTime()) * 1_000_000n : null) };
  }
  if (DataType.isInt(type) && type.bitWidth === 64) {
    const b = new Int64Builder();
    return { builder: b, append: (v) => b.append(typeof v === 'bigint' ? v : typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.trunc(v)) : null) };
  }
  if (DataType.isInt(type)) {
    const b = new Int32Builder();
    return { builder: b, append: (v) => b.append(typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null) };
  }
  if (DataType.isFloat(type)) {
    const b = new Float64Builder();
    return { builder: b, append: (v) => b.append(typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null) };
  }
  if (DataType.isBool(type)) {
    const b = new BoolBuilder();
    return { builder: b, append: (v) => b.append(typeof v === 'boolean' ? v : null) };
  }
  if (DataType.isMap(type)) {
    const b = new StringMapBuilder();
    return {
      builder: b,
      append: (v) => {
        if (v === null || v === undefined || typeof v !== 'object') return b.appendNull();
        if (v instanceof Map) {
          for (const [k, x] of v) b.entry(String(k), x === null || x === undefined ? null : String(x));
        } else {
          const o = v as Record<string, unknown>;
          for (const k of Object.keys(o)) {
            const x = o[k];
            if (x !== undefined) b.entry(k, x === null ? null : String(x));
          }
        }
        b.endRow();
      },
    };
  }
  if (DataType.isList(type)) {
    const item = appenderFor(type.children[0]!.type);
    const b = new PrimitiveListBuilder(item.builder);
    return {
      builder: b,
      append: (v) => {
        if (!Array.isArray(v)) return b.appendNull();
        for (let i = 0; i < v.length; i++) item.append(v[i]);
        b.endRow();
      },
    };
  }
  if (DataType.isStruct(type)) {
    const names = (type.children as Field[]).map((f) => f.name);
    const children = (type.children as Field[]).map((f) => appenderFor(f.type));
    const b = new StructBuilder(Object.fromEntries(names.map((n, i) => [n, children[i]!.builder])));
    return {
      builder: b,
      append: (v) => {
        if (v === null || v === undefined || typeof v !== 'object') return b.appendNull();
        const o = v as Record<string, unknown>;
        for (let i = 0; i < names.length; i++) children[i]!.append(o[names[i]!]);
        b.endRow();
      },
    };
  }
  // A type without a builder here: its JSON text, as the JSON answers have it.
  const convert = converterFor(type);
  const b = new Utf8Builder();
  return { builder: b, append: (v) => (v === null || v === undefined ? b.appendNull() : b.append(JSON.stringify(convert(v)))) };
}

export interface ArrowHooks {
  /** Called after each record batch with the bytes gathered so far; throws to stop. */
  readonly checkMemory?: (gatheredBytes: number) => void;
  /** Told once everything is gathered, before the first byte is handed on. */
  readonly onGathered?: () => void;
}

/** The Arrow schema of an answer with these columns: the dataset's types, every field nullable. */
export function answerSchema(fields: readonly Field[]): Schema {
  return new Schema(fields.map((f) => new Field(f.name, appenderFor(f.type).builder.type, true)));
}

/**
 * Builds record batches of an answer's columns from row batches (the scan's decoded column
 * arrays); `gathered` is the bytes of the builders finished so far.
 */
export class RecordBatchMaker {
  readonly schema: Schema;
  gathered = 0;
  private readonly struct: Struct;
  private readonly cursors: ColumnCursor[];

  constructor(private readonly fields: readonly Field[]) {
    this.schema = answerSchema(fields);
    this.struct = new Struct(this.schema.fields);
    this.cursors = fields.map((f) => new ColumnCursor(f.name));
  }

  /** The rows of one row batch; a batch of no rows when none is given (an empty answer's). */
  make(batch?: RowBatch): RecordBatch {
    const cols = this.fields.map((f) => appenderFor(f.type));
    if (batch) {
      const { data, rows } = batch;
      for (let k = 0; k < cols.length; k++) {
        const cursor = this.cursors[k]!;
        const append = cols[k]!.append;
        cursor.reset(data);
        for (let i = 0; i < rows.length; i++) append(cursor.at(rows[i]!));
      }
    }
    for (const a of cols) this.gathered += a.builder.byteSize();
    const children = cols.map((a) => a.builder.finish());
    return new RecordBatch(this.schema, makeData({ type: this.struct, length: batch?.rows.length ?? 0, nullCount: 0, children }));
  }
}

export async function* arrowBatches(answer: ColumnAnswer, hooks: ArrowHooks = {}): AsyncGenerator<Uint8Array> {
  const maker = new RecordBatchMaker(answer.fields);
  const writer = new RecordBatchStreamWriter();
  let wrote = false;
  for await (const batch of answer.batches) {
    writer.write(maker.make(batch));
    wrote = true;
    hooks.checkMemory?.(maker.gathered);
  }
  if (!wrote) writer.write(maker.make()); // the schema, and no rows
  writer.finish();
  yield* chunked(writer.toUint8Array(true), hooks);
}

/**
 * A gathered IPC stream handed on in messages of `ARROW_CHUNK` bytes, once `onGathered` is told.
 * Each message is a copy with its own ArrayBuffer: a query worker transfers it to the main
 * thread (a Buffer's `slice` is a view, and transferring it would detach the whole stream).
 */
export function* chunked(ipc: Uint8Array, hooks: ArrowHooks): Generator<Uint8Array> {
  hooks.onGathered?.();
  for (let i = 0; i < ipc.length; i += ARROW_CHUNK) {
    const part = new Uint8Array(Math.min(ipc.length, i + ARROW_CHUNK) - i);
    part.set(ipc.subarray(i, i + part.length));
    yield part;
  }
}
