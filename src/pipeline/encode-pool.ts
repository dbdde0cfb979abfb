/**
 * Where a flush is sorted and encoded (`[parquet] encode_workers`): on worker threads, so the
 * event loop only receives, logs to the write-ahead log and appends while a file is encoded
 * (wasm encoding and the sort are synchronous and take most of a flush), or, with 0 workers, on
 * the event loop itself.
 *
 * The rows go over as one Arrow IPC stream in a transferred buffer: the serialisation is the
 * one copy encoding needed anyway (parquet-wasm reads IPC), and the worker reads the stream in
 * place. Each worker has its own wasm memory, which never shrinks, so the default is sized for
 * a sidecar: one worker (flushes run one at a time, see buffers.ts).
 *
 * Built code runs `encode-worker.js` next to this file; under the TypeScript sources (tests,
 * `tsx`) the worker is the `.ts` file, loaded through tsx's loader.
 */
import { setImmediate } from 'node:timers/promises';
import { Table, type RecordBatch } from 'apache-arrow';
import { Piscina } from 'piscina';
import { S3ParquetError } from '../errors.js';
import { prepareCompressors } from '../parquet/compressors.js';
import { ipcStreamInto } from '../parquet/ipc-scratch.js';
import { IdleRelease } from '../runtime/idle-release.js';
import { warmPool } from '../runtime/pool-warm.js';
import { workerExecArgv } from '../worker-argv.js';
import { encodeFlush, type EncodedChunk, type EncodePlan } from './encode-flush.js';
import type { EncodeReply, EncodeTask } from './encode-task.js';

const fromSources = import.meta.url.endsWith('.ts');

/** Sorts and encodes a flush's rows into files. */
export interface FlushEncoder {
  /** Starts the workers ahead of the first flush and resolves once each has loaded (module loading, a wasm compile). */
  warm(): Promise<void>;
  encode(batches: readonly RecordBatch[], plan: EncodePlan): Promise<EncodedChunk[]>;
  close(): Promise<void>;
}

/**
 * Lets the event loop's waiting I/O run (requests, acknowledgements) before the next slice of a
 * flush goes to wasm: a 100,000-span flush held the loop for ~0.6 s in one piece; now for its
 * sort and first slice (~0.2 s), then ~40–70 ms at a time (bench/NOTES.md).
 */
const yieldToRequests = (): Promise<void> => setImmediate();

/** Encodes on the calling thread (`encode_workers = 0`), yielding to requests between slices. */
export class InThreadEncoder implements FlushEncoder {
  warm(): Promise<void> {
    return Promise.resolve();
  }

  encode(batches: readonly RecordBatch[], plan: EncodePlan): Promise<EncodedChunk[]> {
    const ready = plan.parquet.compressionLevel !== undefined ? prepareCompressors() : Promise.resolve();
    return ready.then(() => encodeFlush(batches, plan, yieldToRequests));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class EncodePool implements FlushEncoder {
  /** Started by `warm()` or the first flush: a daemon that fails to start starts no thread. */
  private pool: Piscina<EncodeTask, EncodeReply> | undefined;
  /**
   * IPC buffers the workers sent back, for the next flushes' streams (at most one per thread; let
   * go after `KEPT_MEMORY_IDLE_MS` without a flush, like the other memory kept between flushes).
   */
  private spares: ArrayBuffer[] = [];
  private readonly idle = new IdleRelease(() => {
    this.spares = [];
  });

  constructor(readonly threads: number) {}

  warm(): Promise<void> {
    return warmPool(this.start());
  }

  private start(): Piscina<EncodeTask, EncodeReply> {
    return (this.pool ??= new Piscina({
      filename: new URL(fromSources ? './encode-worker.ts' : './encode-worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      concurrentTasksPerWorker: 1,
      // Started once and kept: a worker's start-up (module loading, wasm compile) costs more
      // than a flush.
      idleTimeout: Number.POSITIVE_INFINITY,
      // Flushes are queued one at a time by the buffers; the queue never holds more than that.
      execArgv: workerExecArgv(fromSources),
    }));
  }

  async encode(batches: readonly RecordBatch[], plan: EncodePlan): Promise<EncodedChunk[]> {
    // The largest spare first: the one most likely to hold this flush without growing.
    this.spares.sort((a, b) => a.byteLength - b.byteLength);
    const spare = this.spares.pop();
    const ipc = ipcStreamInto(new Table(batches as RecordBatch[]), spare);
    this.idle.touch();
    const { answer, spare: back } = await this.start().run({ ipc, plan } satisfies EncodeTask, { transferList: [ipc.buffer as ArrayBuffer] });
    if (this.spares.length < this.threads) this.spares.push(back);
    if (!answer.ok) throw new S3ParquetError(answer.code, answer.message);
    return answer.chunks;
  }

  /** Bytes of the IPC buffers kept for the next flushes (tests). */
  spareBytes(): number {
    return this.spares.reduce((n, b) => n + b.byteLength, 0);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.spares = [];
    await pool?.destroy();
  }
}

/** The encoder for `[parquet] encode_workers`: 0 is the calling thread. */
export function createFlushEncoder(workers: number): FlushEncoder {
  return workers > 0 ? new EncodePool(workers) : new InThreadEncoder();
}
