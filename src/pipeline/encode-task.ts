/**
 * What crosses to an encode worker and back. The flush's rows travel as Arrow IPC stream bytes
 * in a transferred ArrayBuffer (moved, not cloned); the answer is the encoded files, or the
 * error's code and message (an Error's class does not survive the thread boundary, and the
 * pipeline tells permanent from retryable failures by code).
 */
import { tableFromIPC } from 'apache-arrow';
import { S3ParquetError, type ErrorCode } from '../errors.js';
import { encodeFlush, type EncodedChunk, type EncodePlan } from './encode-flush.js';

export interface EncodeTask {
  readonly ipc: Uint8Array;
  readonly plan: EncodePlan;
}

export type EncodeAnswer =
  | { readonly ok: true; readonly chunks: EncodedChunk[] }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/**
 * The answer, and the task's IPC buffer sent back (transferred) for the pool's next flush: the
 * pool writes each flush's stream into memory written before instead of ~64 MiB of fresh pages
 * (page faults on the receiving thread, ~0.2 s a 100,000-span flush on the bench VM).
 */
export interface EncodeReply {
  readonly answer: EncodeAnswer;
  readonly spare: ArrayBuffer;
}

export async function runEncodeTask(task: EncodeTask): Promise<EncodeAnswer> {
  try {
    return { ok: true, chunks: await encodeFlush(tableFromIPC(task.ipc).batches, task.plan) };
  } catch (err) {
    if (err instanceof S3ParquetError) return { ok: false, code: err.code, message: err.message };
    return { ok: false, code: 'PARQUET_WRITE_FAILED', message: `encoding a flush failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
