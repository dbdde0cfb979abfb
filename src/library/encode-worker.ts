/**
 * The worker side of the encode pool: piscina loads this file in each worker thread and calls the
 * default export per file: validate, build and encode its records.
 */
import { runWorkerTask, type EncodedFile, type Misfit, type WorkerTask } from './encode-task.js';

export default function encode(task: WorkerTask): EncodedFile | Misfit {
  return runWorkerTask(task);
}
