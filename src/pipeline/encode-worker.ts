/** An encode worker: piscina loads this file in each worker thread and calls it per flush. */
import { runEncodeTask, type EncodeAnswer, type EncodeTask } from './encode-task.js';

export default function encode(task: EncodeTask): EncodeAnswer {
  return runEncodeTask(task);
}
