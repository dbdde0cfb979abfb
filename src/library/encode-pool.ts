/**
 * Encoding on worker threads (piscina) for `batchWrite` with `parallelism` > 1. Parquet encoding
 * and record validation are CPU-bound and synchronous (parquet-wasm), so threads are what let a
 * batch use more than one core; the main thread only partitions records and uploads files.
 *
 * Built code runs `encode-worker.js` next to this file. Under the TypeScript sources (tests,
 * `tsx`), the worker is the `.ts` file, loaded through tsx's loader (a dev dependency).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { EncodeResult, EncodeTask } from './encode-task.js';

const fromSources = import.meta.url.endsWith('.ts');

export class EncodePool {
  private readonly pool: Piscina<EncodeTask, EncodeResult>;

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

  run(task: EncodeTask): Promise<EncodeResult> {
    return this.pool.run(task);
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** A sensible default for `parallelism`: the cores this process may use. */
export const defaultParallelism = (): number => availableParallelism();
