/**
 * A broad read's Arrow answer (issue 18: no filter, no time range) decoded by parquet-wasm
 * (arrow-rs compiled to wasm) a row group at a time, its record batches forwarded as IPC
 * messages: no JS value per cell, which is what makes Arrow answers several times cheaper than
 * NDJSON (bench/ISOLATION.md). The files hold the `ARROW:schema` our writer stored, so the
 * decoded batches are already in the dataset's own types (Timestamp(ns), Int64,
 * Map<Utf8, Utf8>, lists of structs); they go out under the answer's schema (`answerSchema`,
 * the one the scan path writes), which is checked to have the same physical layout first. A
 * file that does not match (another schema version, a column missing, a projection) or is too
 * large to take whole goes through the engine's scan and the builders instead, into the same
 * stream.
 *
 * Memory: a wasm Memory grows and never shrinks. A row group at a time keeps its high-water
 * mark at about the largest file taken whole (`WASM_WHOLE_FILE_BYTES` at most) plus two
 * decoded row groups; the file and the gathered answer count against the query's budget.
 */
import { DataType, RecordBatchStreamWriter, tableFromIPC, type Field, type RecordBatch, type Schema } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { S3ParquetError } from '../../errors.js';
import type { BroadFile, QueryEngine, QueryOptions, QueryStats } from '../engine.js';
import { chunked, RecordBatchMaker, type ArrowHooks } from './arrow-batches.js';
import type { DerivedColumn } from '../../schema/derived.js';
import { missingDerived, withDerivedColumns } from './derived-batches.js';

/** Files up to this size are decoded in wasm (taken whole); larger ones go through the scan. */
export const WASM_WHOLE_FILE_BYTES = 256 * 2 ** 20;

/** The end-of-stream marker of an IPC stream: continuation, then a zero length. */
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

export interface WasmArrowHooks extends ArrowHooks {
  /** Told how each file was read: decoded in wasm, or through the engine's scan. */
  readonly onFile?: (key: string, how: 'wasm' | 'scan') => void;
}

/**
 * The Arrow answer of `q` when it is a broad read, else null (the caller runs the scan path).
 * Throws on a bad query before any read, as `queryColumns` does.
 */
export function wasmArrowAnswer(engine: QueryEngine, q: QueryOptions, stats: QueryStats, hooks: WasmArrowHooks = {}): AsyncGenerator<Uint8Array> | null {
  const broad = engine.broadFiles(q, stats, WASM_WHOLE_FILE_BYTES);
  return broad && gather(broad.fields, broad.derived, broad.files, q.limit ?? Number.POSITIVE_INFINITY, stats, hooks);
}

async function* gather(fields: readonly Field[], derived: readonly DerivedColumn[], files: AsyncGenerator<BroadFile>, limit: number, stats: QueryStats, hooks: WasmArrowHooks): AsyncGenerator<Uint8Array> {
  const maker = new RecordBatchMaker(fields);
  const parts: Uint8Array[] = [firstMessage(streamOf(maker, null))];
  let gathered = 0;
  const push = (message: Uint8Array): void => {
    parts.push(message);
    gathered += message.byteLength;
  };
  for await (const file of files) {
    const fit = file.whole === null ? null : fileFit(file.whole.bytes, maker.schema, derived);
    const fits = fit !== null;
    hooks.onFile?.(file.key, fits ? 'wasm' : 'scan');
    if (!fits) {
      const scan = file.scan();
      for (let r = await scan.next(); !r.done; r = await scan.next()) {
        push(batchMessages(streamOf(maker, r.value)));
        hooks.checkMemory?.(gathered);
      }
      continue;
    }
    const { bytes, metadata } = file.whole!;
    for (let g = 0; g < metadata.row_groups.length && stats.rows_returned < limit; g++) {
      const groupRows = Number(metadata.row_groups[g]!.num_rows);
      const room = limit - stats.rows_returned;
      stats.row_groups_considered++;
      const ipc = decodeRowGroup(bytes, file.key, g, groupRows, room);
      const n = Math.min(groupRows, room);
      stats.rows_scanned += n;
      stats.rows_returned += n;
      if (fit!.length === 0) push(batchMessages(ipc));
      // A file without the answer's derived columns: the batches again, with them added.
      else for (const batch of tableFromIPC(ipc).batches) push(batchMessages(batchStream(withDerivedColumns(batch, maker.schema, fit!))));
      hooks.checkMemory?.(gathered + bytes.byteLength);
    }
  }
  if (parts.length === 1) push(batchMessages(streamOf(maker, null))); // the schema, and no rows
  parts.push(EOS);
  yield* chunked(Buffer.concat(parts), hooks);
}

/**
 * Row group `g` of a whole file (`groupRows` rows, at most `room` of them wanted) decoded by
 * parquet-wasm as one Arrow IPC stream; the wasm table is freed by the conversion.
 */
export function decodeRowGroup(bytes: Uint8Array, key: string, g: number, groupRows: number, room: number): Uint8Array {
  try {
    const table = wasm.readParquet(bytes, {
      rowGroups: [g],
      batchSize: Math.max(1, groupRows),
      ...(room < groupRows ? { limit: room } : {}),
    });
    return table.intoIPCStream(); // consumes (frees) the wasm table
  } catch (err) {
    throw new S3ParquetError('INTERNAL', `cannot decode row group ${g} of ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Whether parquet-wasm's batches of this file can go out under the answer's schema: the file's
 * columns are the answer's, in its order, each with the same physical layout. A projection
 * (`select`) is scanned: parquet-wasm 0.8's `columns` option decoded nested columns (lists of
 * structs) into batches apache-arrow could not read back (test/unit/wasm-arrow.test.ts).
 */
export function fitsAnswer(bytes: Uint8Array, answer: Schema): boolean {
  return fileFit(bytes, answer, []) !== null;
}

/**
 * `fitsAnswer` for a file that may lack the answer's derived columns (schema/derived.ts): null
 * when it does not fit, else the derived columns to add to its batches (none when it has all).
 */
export function fileFit(bytes: Uint8Array, answer: Schema, derived: readonly DerivedColumn[]): DerivedColumn[] | null {
  let fileSchema: Schema;
  try {
    fileSchema = tableFromIPC(wasm.readSchema(bytes).intoIPCStream()).schema;
  } catch {
    return null; // the scan reads it, or names what is wrong with it
  }
  const missing = derived.length > 0 ? missingDerived(fileSchema, answer, derived) : null;
  const want = missing ? answer.fields.filter((f) => !missing.some((d) => d.name === f.name)) : answer.fields;
  const fields = fileSchema.fields;
  const same = fields.length === want.length && fields.every((f, i) => f.name === want[i]!.name && sameLayout(f.type, want[i]!.type));
  return same ? (missing ?? []) : null;
}

/** An IPC stream of one record batch. */
function batchStream(batch: RecordBatch): Uint8Array {
  const writer = new RecordBatchStreamWriter();
  writer.write(batch);
  writer.finish();
  return writer.toUint8Array(true);
}

/** Same buffers in an IPC record batch (names of nested fields and nullability aside). */
function sameLayout(a: DataType, b: DataType): boolean {
  if (a.typeId !== b.typeId) return false;
  if (DataType.isInt(a) && DataType.isInt(b)) return a.bitWidth === b.bitWidth && a.isSigned === b.isSigned;
  if (DataType.isFloat(a) && DataType.isFloat(b)) return a.precision === b.precision;
  if (DataType.isTimestamp(a) && DataType.isTimestamp(b)) return a.unit === b.unit;
  const ac = a.children ?? [];
  const bc = b.children ?? [];
  return ac.length === bc.length && ac.every((f: Field, i: number) => sameLayout(f.type, bc[i]!.type));
}

/** An IPC stream of one record batch of the answer (no rows without a row batch). */
function streamOf(maker: RecordBatchMaker, batch: Parameters<RecordBatchMaker['make']>[0] | null): Uint8Array {
  const writer = new RecordBatchStreamWriter();
  writer.write(maker.make(batch ?? undefined));
  writer.finish();
  return writer.toUint8Array(true);
}

/** Bytes of the first message of an IPC stream: its schema (a schema message has no body). */
function firstMessage(stream: Uint8Array): Uint8Array {
  return stream.subarray(0, schemaEnd(stream));
}

/** The messages of an IPC stream after its schema, without its end-of-stream marker. */
function batchMessages(stream: Uint8Array): Uint8Array {
  let end = stream.length;
  if (end >= 8 && stream.subarray(end - 8).every((b, i) => b === EOS[i])) end -= 8;
  else if (end >= 4 && stream.subarray(end - 4).every((b) => b === 0)) end -= 4; // pre-1.0 marker
  return stream.subarray(schemaEnd(stream), end);
}

function schemaEnd(stream: Uint8Array): number {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const first = view.getInt32(0, true);
  // A continuation marker (-1) then the metadata's length, or (before Arrow 0.15) the length alone.
  return first === -1 ? 8 + view.getInt32(4, true) : 4 + first;
}
