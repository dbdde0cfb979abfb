/**
 * One file's worth of work, the same on the main thread and on a worker: validate records
 * against the schema, build the Arrow batch, encode Parquet (with an optional bloom filter).
 * Inputs and outputs are plain, structured-clone-friendly data; a record that does not fit comes
 * back as data (`problem`), not as a thrown error, because errors lose their class crossing threads.
 */
import { buildBloom } from '../parquet/bloom.js';
import { encodeParquet, type ParquetWriterOptions } from '../parquet/writer.js';
import { FOOTER_KEYS } from '../pipeline/file-writer.js';
import { S3ParquetError } from '../errors.js';
import { buildBatch, normalizeRecords, type InputRecord } from './records.js';
import { ParquetSchema } from './schema.js';
import type { ParquetField } from './types.js';

export interface EncodeTask {
  readonly fields: readonly ParquetField[];
  readonly records: readonly InputRecord[];
  /** Index of each record in the operation (for error messages), or the first index of a run. */
  readonly indexes: readonly number[] | number;
  readonly parquet: ParquetWriterOptions;
  readonly metadata: readonly (readonly [string, string])[];
  /** A string field to build a footer bloom filter over, when the schema has it. */
  readonly bloomField?: string;
}

export type EncodeResult =
  | { readonly ok: true; readonly bytes: Uint8Array; readonly rows: number; readonly rawBytes: number }
  | { readonly ok: false; readonly code: 'SCHEMA_INVALID' | 'PARQUET_WRITE_FAILED' | 'INTERNAL'; readonly message: string; readonly index: number };

export function runEncodeTask(task: EncodeTask): EncodeResult {
  const indexOf = (i: number): number => (typeof task.indexes === 'number' ? task.indexes + i : (task.indexes[i] ?? i));
  try {
    const schema = ParquetSchema.of(task.fields);
    // Validate one by one so a misfit names its index in the whole operation.
    const rows = task.records.map((r, i) => normalizeRecords(schema, [r], indexOf(i))[0]!);
    const batch = buildBatch(schema, rows);
    const metadata = new Map<string, string>(task.metadata.map(([k, v]) => [k, v]));
    const bloomField = task.bloomField ? schema.field(task.bloomField) : undefined;
    if (bloomField && bloomField.type.kind === 'string') {
      const values = rows.map((r) => r[bloomField.name]).filter((v): v is string => typeof v === 'string');
      metadata.set(FOOTER_KEYS.traceIdBloom, buildBloom(values, values.length));
      metadata.set(FOOTER_KEYS.bloomColumn, bloomField.name);
    }
    const bytes = encodeParquet([batch], metadata, task.parquet);
    let rawBytes = 0;
    for (const child of batch.data.children) rawBytes += child.byteLength;
    return { ok: true, bytes, rows: batch.numRows, rawBytes };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const index = /^record (\d+):/.exec(message)?.[1];
    const code = err instanceof S3ParquetError && (err.code === 'SCHEMA_INVALID' || err.code === 'PARQUET_WRITE_FAILED') ? err.code : 'INTERNAL';
    return { ok: false, code, message, index: index === undefined ? -1 : Number(index) };
  }
}

/** The result as a value, or the error it stands for. */
export function unwrapEncodeResult(result: EncodeResult): Extract<EncodeResult, { ok: true }> {
  if (result.ok) return result;
  throw new S3ParquetError(result.code, result.message);
}
