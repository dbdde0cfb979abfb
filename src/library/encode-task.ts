/**
 * One file's worth of work in two steps. `prepareFile` (the calling thread) validates the
 * records against the schema, builds the Arrow batch and its IPC stream; `encodePrepared` (the
 * calling thread, or a worker) encodes that stream as Parquet. The IPC buffer is transferred to a
 * worker, not copied: handing a worker the records themselves costs a structured clone per
 * record about as long as encoding it (bench/LIBRARY.md), which would eat the parallel gain.
 *
 * A record that does not fit comes back as data, not as a thrown error, so the batch can report
 * the first misfit in record order.
 */
import { buildBloom } from '../parquet/bloom.js';
import { batchesToIpc, encodeIpcAsParquet, type IpcBatch, type ParquetWriterOptions } from '../parquet/writer.js';
import { FOOTER_KEYS } from '../pipeline/file-writer.js';
import { S3ParquetError } from '../errors.js';
import { buildBatch, normalizeRecords, type InputRecord } from './records.js';
import type { ParquetSchema } from './schema.js';

export interface FileTask {
  readonly schema: ParquetSchema;
  readonly records: readonly InputRecord[];
  /** Index of each record in the operation (for error messages), or the first index of a run. */
  readonly indexes: readonly number[] | number;
  readonly metadata: readonly (readonly [string, string])[];
  /** A string field to build a footer bloom filter over, when the schema has it. */
  readonly bloomField?: string;
}

/** What a worker gets: plain data and one transferable buffer. */
export interface PreparedFile {
  readonly batch: IpcBatch;
  readonly metadata: readonly (readonly [string, string])[];
  readonly parquet: ParquetWriterOptions;
  readonly rows: number;
  /** Arrow bytes of the records (for the compression ratio). */
  readonly rawBytes: number;
}

export interface EncodedFile {
  readonly bytes: Uint8Array;
  readonly rows: number;
  readonly rawBytes: number;
}

export interface Misfit {
  readonly code: 'SCHEMA_INVALID' | 'PARQUET_WRITE_FAILED' | 'INTERNAL';
  readonly message: string;
  readonly index: number;
}

export function prepareFile(task: FileTask, parquet: ParquetWriterOptions): PreparedFile | Misfit {
  const indexOf = (i: number): number => (typeof task.indexes === 'number' ? task.indexes + i : (task.indexes[i] ?? i));
  try {
    // Validated one by one so a misfit names its index in the whole operation.
    const rows = typeof task.indexes === 'number' ? normalizeRecords(task.schema, task.records, task.indexes) : task.records.map((r, i) => normalizeRecords(task.schema, [r], indexOf(i))[0]!);
    const batch = buildBatch(task.schema, rows);
    const metadata = [...task.metadata];
    const bloomField = task.bloomField ? task.schema.field(task.bloomField) : undefined;
    if (bloomField && bloomField.type.kind === 'string') {
      const values = rows.map((r) => r[bloomField.name]).filter((v): v is string => typeof v === 'string');
      metadata.push([FOOTER_KEYS.traceIdBloom, buildBloom(values, values.length)], [FOOTER_KEYS.bloomColumn, bloomField.name]);
    }
    let rawBytes = 0;
    for (const child of batch.data.children) rawBytes += child.byteLength;
    return { batch: batchesToIpc([batch]), metadata, parquet, rows: batch.numRows, rawBytes };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const index = /^record (\d+):/.exec(message)?.[1];
    const code = err instanceof S3ParquetError && (err.code === 'SCHEMA_INVALID' || err.code === 'PARQUET_WRITE_FAILED') ? err.code : 'INTERNAL';
    return { code, message, index: index === undefined ? -1 : Number(index) };
  }
}

export function isMisfit(p: PreparedFile | Misfit): p is Misfit {
  return 'code' in p;
}

export function encodePrepared(p: PreparedFile): EncodedFile {
  return { bytes: encodeIpcAsParquet(p.batch, new Map(p.metadata.map(([k, v]) => [k, v])), p.parquet), rows: p.rows, rawBytes: p.rawBytes };
}

/** Prepares and encodes on this thread; throws the misfit as a `Schema` error. */
export function encodeFile(task: FileTask, parquet: ParquetWriterOptions): EncodedFile {
  const prepared = prepareFile(task, parquet);
  if (isMisfit(prepared)) throw new S3ParquetError(prepared.code, prepared.message);
  return encodePrepared(prepared);
}
