/** An encode worker: piscina loads this file in each worker thread and calls it per flush. */
import { prepareCompressors } from '../parquet/compressors.js';
import { runEncodeTask, type EncodeAnswer, type EncodeTask } from './encode-task.js';

/** Loaded and ready (pool-warm.ts): the daemon waits for this before it reports started. */
export function warm(): void {}

export default async function encode(task: EncodeTask): Promise<EncodeAnswer> {
  // A compression level may need its compressor loaded in this thread (once; then a no-op).
  if (task.plan.parquet.compressionLevel !== undefined) await prepareCompressors();
  return runEncodeTask(task);
}
