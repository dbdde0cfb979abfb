/**
 * The worker side of the encode pool: piscina loads this file in each worker thread and calls the
 * default export per task. The result (a few MiB of Parquet at most) is structured-cloned back.
 */
import { runEncodeTask, type EncodeResult, type EncodeTask } from './encode-task.js';

export default function encode(task: EncodeTask): EncodeResult {
  return runEncodeTask(task);
}
