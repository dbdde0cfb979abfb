/** An encode worker: piscina loads this file in each worker thread and calls it per flush. */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { prepareCompressors } from '../parquet/compressors.js';
import { runEncodeTask, type EncodeReply, type EncodeTask } from './encode-task.js';

/** Loaded and ready (pool-warm.ts): the daemon waits for this before it reports started. */
export function warm(): void {}

export default async function encode(task: EncodeTask): Promise<EncodeReply> {
  // A compression level may need its compressor loaded in this thread (once; then a no-op).
  if (task.plan.parquet.compressionLevel !== undefined) await prepareCompressors();
  const answer = await runEncodeTask(task);
  // The rows read from the buffer are done with (the sort copied them into the arena, the files
  // came out of wasm): it goes back, detached here. The files' own buffers move too (no copy).
  const spare = task.ipc.buffer as ArrayBuffer;
  // A file's bytes move only when they are its whole buffer (never a view into other memory).
  const files = answer.ok ? answer.chunks.filter((c) => c.body.byteOffset === 0 && c.body.byteLength === c.body.buffer.byteLength).map((c) => c.body.buffer as ArrayBuffer) : [];
  return move({
    get [transferableSymbol]() {
      return [spare, ...files];
    },
    get [valueSymbol]() {
      return { answer, spare } satisfies EncodeReply;
    },
  }) as unknown as EncodeReply;
}
