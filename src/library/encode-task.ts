/**
 * One file's worth of work, the same on the calling thread and on a worker: validate the records
 * against the schema, build the Arrow batch, encode Parquet. A worker receives a `WorkerTask`
 * (the schema as plain fields; records are structured-cloned).
 *
 * A record that does not fit comes back as data, not as a thrown error (errors lose their class
 * crossing threads), so a batch can report the first misfit in record order.
 */
import { encodeParquet, type ParquetWriterOptions } from '../parquet/writer.js';
import { buildFileIndex, FOOTER_KEYS } from '../parquet/contract.js';
import { S3ParquetError } from '../errors.js';
import { buildBatch, normalizeRecords, type InputRecord } from './records.js';
import { ParquetSchema } from '../parquet/schema.js';
import type { ParquetField } from '../parquet/types.js';

export interface FileTask {
  readonly schema: ParquetSchema;
  readonly records: readonly InputRecord[];
  /** Index of each record in the operation (for error messages), or the first index of a run. */
  readonly indexes: readonly number[] | number;
  readonly metadata: readonly (readonly [string, string])[];
  /** A string field to build a footer bloom filter over, when the schema has it. */
  readonly bloomField?: string;
}

export interface EncodedFile {
  readonly bytes: Uint8Array;
  readonly rows: number;
  /** Arrow bytes of the records (for the compression ratio). */
  readonly rawBytes: number;
}

export interface Misfit {
  readonly code: 'SCHEMA_INVALID' | 'PARQUET_WRITE_FAILED' | 'INTERNAL';
  readonly message: string;
  readonly index: number;
}

export function isMisfit<T extends object>(p: T | Misfit): p is Misfit {
  return 'code' in p;
}

/** Validates, builds and encodes one file; a misfit (or an encoder failure) comes back as data. */
export function writeFile(task: FileTask, parquet: ParquetWriterOptions): EncodedFile | Misfit {
  const indexOf = (i: number): number => (typeof task.indexes === 'number' ? task.indexes + i : (task.indexes[i] ?? i));
  try {
    // Validated one by one so a misfit names its index in the whole operation.
    const rows = typeof task.indexes === 'number' ? normalizeRecords(task.schema, task.records, task.indexes) : task.records.map((r, i) => normalizeRecords(task.schema, [r], indexOf(i))[0]!);
    const batch = buildBatch(task.schema, rows);
    const metadata = new Map<string, string>(task.metadata.map(([k, v]) => [k, v]));
    const bloomField = task.bloomField ? task.schema.field(task.bloomField) : undefined;
    if (bloomField && bloomField.type.kind === 'string') {
      const values = rows.map((r) => r[bloomField.name]).filter((v): v is string => typeof v === 'string');
      metadata.set(FOOTER_KEYS.traceIdBloom, buildFileIndex(bloomField.name, values).encoded);
      metadata.set(FOOTER_KEYS.bloomColumn, bloomField.name);
    }
    let rawBytes = 0;
    for (const child of batch.data.children) rawBytes += child.byteLength;
    return { bytes: encodeParquet([batch], metadata, parquet), rows: batch.numRows, rawBytes };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const index = /^record (\d+):/.exec(message)?.[1];
    const code = err instanceof S3ParquetError && (err.code === 'SCHEMA_INVALID' || err.code === 'PARQUET_WRITE_FAILED') ? err.code : 'INTERNAL';
    return { code, message, index: index === undefined ? -1 : Number(index) };
  }
}

/** `writeFile` that throws the misfit as an `S3ParquetError`. */
export function encodeFile(task: FileTask, parquet: ParquetWriterOptions): EncodedFile {
  const result = writeFile(task, parquet);
  if (isMisfit(result)) throw new S3ParquetError(result.code, result.message);
  return result;
}

/** A file task as a worker receives it: the schema as plain fields, plus the writer options. */
export interface WorkerTask extends Omit<FileTask, 'schema'> {
  readonly fields: readonly ParquetField[];
  readonly parquet: ParquetWriterOptions;
}

export function toWorkerTask(task: FileTask, parquet: ParquetWriterOptions): WorkerTask {
  const { schema, ...rest } = task;
  return { ...rest, fields: schema.fields, parquet };
}

export function runWorkerTask(task: WorkerTask): EncodedFile | Misfit {
  const { fields, parquet, ...rest } = task;
  return writeFile({ ...rest, schema: ParquetSchema.of(fields) }, parquet);
}
