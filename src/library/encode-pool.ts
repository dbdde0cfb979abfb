/**
 * Worker threads (piscina) for `batchWrite` with `parallelism` > 1: validating, building and
 * encoding a file are CPU-bound and synchronous (parquet-wasm), so threads let a batch use more
 * than one core. `parallelism` N is the calling thread plus N - 1 workers; each worker holds a
 * second file in its queue, so it never waits while the calling thread works on its own share.
 *
 * Built code runs `encode-worker.js` next to this file. Under the TypeScript sources (tests,
 * `tsx`), the worker is the `.ts` file, loaded through tsx's loader (a dev dependency).
 */
import { Piscina } from 'piscina';
import { workerExecArgv } from '../worker-argv.js';
import type { EncodedFile, Misfit, WorkerTask } from './encode-task.js';

const fromSources = import.meta.url.endsWith('.ts');

export class EncodePool {
  private readonly pool: Piscina<WorkerTask, EncodedFile | Misfit>;

  constructor(readonly threads: number) {
    this.pool = new Piscina({
      filename: new URL(fromSources ? './encode-worker.ts' : './encode-worker.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 2,
      // The queue is unbounded (piscina's default): batchWrite submits every file of a batch at
      // once, and the batch's records are in memory anyway.
      execArgv: workerExecArgv(fromSources),
    });
  }

  /** Validates, builds and encodes a file on a worker (its records are copied there). */
  run(task: WorkerTask): Promise<EncodedFile | Misfit> {
    return this.pool.run(task);
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
