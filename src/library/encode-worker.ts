/**
 * The worker side of the encode pool: piscina loads this file in each worker thread and calls the
 * default export per file: validate, build and encode its records.
 */
import { prepareCompressors } from '../parquet/compressors.js';
import { runWorkerTask, type EncodedFile, type Misfit, type WorkerTask } from './encode-task.js';

export default async function encode(task: WorkerTask): Promise<EncodedFile | Misfit> {
  // A compression level may need its compressor loaded in this thread (once; then a no-op).
  if (task.parquet.compressionLevel !== undefined) await prepareCompressors();
  return runWorkerTask(task);
}
