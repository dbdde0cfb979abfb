/**
 * Parquet encoding on worker threads (piscina) for `batchWrite` with `parallelism` > 1: encoding
 * is CPU-bound and synchronous (parquet-wasm), so threads let a batch use more than one core
 * while the calling thread validates and builds the next file (see encode-task.ts).
 *
 * Built code runs `encode-worker.js` next to this file. Under the TypeScript sources (tests,
 * `tsx`), the worker is the `.ts` file, loaded through tsx's loader (a dev dependency).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { EncodedFile, PreparedFile } from './encode-task.js';

const fromSources = import.meta.url.endsWith('.ts');

export class EncodePool {
  private readonly pool: Piscina<PreparedFile, EncodedFile>;

  constructor(readonly threads: number) {
    this.pool = new Piscina({
      filename: new URL(fromSources ? './encode-worker.ts' : './encode-worker.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      // The queue is unbounded (piscina's default): batchWrite submits every file of a batch at
      // once, and the batch's records are in memory anyway.
      ...(fromSources ? { execArgv: [...process.execArgv, '--import', 'tsx'] } : {}),
    });
  }

  /** Encodes on a worker; the task's IPC buffer moves to the worker (unusable here afterwards). */
  run(task: PreparedFile): Promise<EncodedFile> {
    const buffer = task.batch.ipc.buffer;
    return this.pool.run(task, buffer instanceof ArrayBuffer ? { transferList: [buffer] } : {});
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** A sensible default for `parallelism`: the cores this process may use. */
export const defaultParallelism = (): number => availableParallelism();
