/**
 * The worker side of the encode pool: piscina loads this file in each worker thread and calls the
 * default export per prepared file (its Arrow IPC buffer transferred, not copied).
 */
import { encodePrepared, type EncodedFile, type PreparedFile } from './encode-task.js';

export default function encode(task: PreparedFile): EncodedFile {
  return encodePrepared(task);
}
