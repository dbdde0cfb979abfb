/**
 * The query port's worker pool (piscina): every query runs on a worker thread, so reading,
 * decoding, filtering and serialising never block the receivers' event loop (issue 18). The
 * main thread only admits, routes and copies batches to sockets.
 *
 * Bounds (docs/query-limits.md):
 * - `max_concurrent_queries` running or waiting for a worker; one more is TOO_MANY_QUERIES (429).
 * - `timeout_seconds` from admission; then the worker is stopped: QUERY_TIMEOUT.
 * - `max_memory_mb_per_query`: a worker runs one query, and its heap is capped at the budget
 *   (checked between batches, and enforced by V8 — an out-of-memory worker dies, not the daemon).
 * - a client that goes aborts the task: piscina terminates the worker at once, even
 *   mid-computation, and starts a fresh one. A caller that stops asking for batches (a search
 *   that found enough) lets the worker end the task at its next batch, within a grace period.
 *
 * Built code runs `worker.js` next to this file; under the TypeScript sources (tests, tsx) the
 * worker is `worker.ts`, loaded through tsx (a dev dependency), as the encode pool does.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { warmPool } from '../../runtime/pool-warm.js';
import { workerExecArgv } from '../../worker-argv.js';
import type { Config } from '../../config/index.js';
import type { StoreRequestHook } from '../../store/object-store.js';
import { S3ParquetError } from '../../errors.js';
import type { QueryStats } from '../engine.js';
import type { QueryTask, WorkerInit, WorkerMessage, WorkerTask } from './messages.js';

const fromSources = import.meta.url.endsWith('.ts');

/** Why a query stopped before its end (a metric label). */
export type StopReason = 'client_closed' | 'abandoned' | 'timeout' | 'memory' | 'rejected' | 'error';

export interface QueryPoolOptions {
  readonly config: Config;
  readonly instanceId: string;
  /** Told when each query ends normally, with its stats (read metrics). */
  readonly onQuery?: (stats: QueryStats) => void;
  /** Told when a query is refused or stopped early, and why. */
  readonly onStop?: (reason: StopReason) => void;
  /** Told of every store request the workers made (the daemon's store metrics). */
  readonly onStoreRequest?: StoreRequestHook;
}

export interface StreamOptions {
  /** Aborts when the client has gone: the worker is stopped at once. */
  readonly signal?: AbortSignal;
  /** Final stats sent ahead of the bytes (arrow). */
  readonly onStats?: (stats: QueryStats) => void;
  /** The query's stats so far, told with every batch (before it is yielded). */
  readonly onProgress?: (stats: QueryStats) => void;
  /** Told at once when the deadline stops the query, even while the caller waits on a slow socket. */
  readonly onStopped?: (error: S3ParquetError) => void;
}

/** Heap a query worker needs besides its query: modules, the store client, the footer cache. */
export const WORKER_FOOTPRINT_MB = 64;

/** How long an abandoned query's worker may take to notice (at its next batch) before it is terminated. */
const ABANDON_GRACE_MS = 1000;

/** Seconds a client refused for concurrency is told to wait (Retry-After). */
export const RETRY_AFTER_SECONDS = 1;

export class QueryPool {
  private readonly pool: Piscina<WorkerTask, void>;
  private readonly max: number;
  private readonly timeoutMs: number;
  private readonly budgetBytes: number;
  private admitted = 0;
  /** Recently deleted partition prefixes, told to every task (see `forget`). */
  private deleted: { first: number; prefixes: string[] } = { first: 1, prefixes: [] };

  constructor(private readonly o: QueryPoolOptions) {
    const q = o.config.query;
    this.max = q.max_concurrent_queries;
    this.timeoutMs = q.timeout_seconds * 1000;
    this.budgetBytes = q.max_memory_mb_per_query * 2 ** 20;
    this.pool = new Piscina({
      filename: new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url).href,
      minThreads: q.workers,
      maxThreads: q.workers,
      // One query per worker: its heap limit is then that query's memory budget.
      concurrentTasksPerWorker: 1,
      // Waiting queries are bounded by admission (max_concurrent_queries), not by piscina.
      idleTimeout: Number.POSITIVE_INFINITY,
      // The query's budget on top of the worker's own footprint (code, footer cache).
      resourceLimits: { maxOldGenerationSizeMb: q.max_memory_mb_per_query + WORKER_FOOTPRINT_MB },
      workerData: { config: o.config, instanceId: o.instanceId } satisfies WorkerInit,
      execArgv: workerExecArgv(fromSources),
    });
  }

  /**
   * Files under `prefix` were deleted: workers forget their cached footers there before their
   * next task. The last 64 deletions are kept; a worker further behind forgets every footer.
   */
  forget(prefix: string): void {
    this.deleted.prefixes.push(prefix);
    if (this.deleted.prefixes.length > 64) {
      this.deleted.prefixes.shift();
      this.deleted.first++;
    }
  }

  /** Queries admitted and not yet finished (running or waiting for a worker). */
  get running(): number {
    return this.admitted;
  }

  /**
   * Admits a task (or throws TOO_MANY_QUERIES) and streams its answer: each yielded batch is
   * acknowledged to the worker when the caller asks for the next one, so a slow reader slows
   * the worker down instead of filling memory. Returns the query's stats. `signal` stops the
   * worker at once; `return`/`throw` on the generator ends its task at its next batch (or
   * terminates it after a grace period).
   */
  stream(task: QueryTask, o: StreamOptions = {}): AsyncGenerator<Uint8Array, QueryStats> {
    if (this.admitted >= this.max) {
      this.o.onStop?.('rejected');
      throw new S3ParquetError('TOO_MANY_QUERIES', `${this.admitted} queries are running, the limit ([query] max_concurrent_queries) is ${this.max}; retry in ${RETRY_AFTER_SECONDS} s`);
    }
    this.admitted++;
    return this.run(task, o);
  }

  private async *run(task: QueryTask, { signal, onStats, onProgress, onStopped }: StreamOptions): AsyncGenerator<Uint8Array, QueryStats> {
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    let stopped: { reason: StopReason; error: S3ParquetError } | null = null;
    let wake: () => void = () => {};
    const stop = (reason: StopReason, error: S3ParquetError): void => {
      if (stopped) return;
      stopped = { reason, error };
      abort.abort(error);
      wake();
      if (reason !== 'client_closed') onStopped?.(error);
    };
    const timer = setTimeout(() => stop('timeout', new S3ParquetError('QUERY_TIMEOUT', `the query ran longer than ${this.timeoutMs / 1000} s ([query] timeout_seconds) and was stopped; narrow it (time range, filter, limit)`)), this.timeoutMs);
    timer.unref();
    const onClientGone = (): void => stop('client_closed', new S3ParquetError('INTERNAL', 'the client closed the connection'));
    if (signal?.aborted) onClientGone();
    signal?.addEventListener('abort', onClientGone, { once: true });

    const inbox: WorkerMessage[] = [];
    port1.on('message', (m: WorkerMessage) => {
      if (this.o.onStoreRequest) for (const c of m.store) this.o.onStoreRequest(c.operation, c.ok, c.ms, c.error === undefined ? undefined : new Error(c.error));
      inbox.push(m);
      wake();
    });
    let settled: { error: unknown } | null = null;
    const done = this.pool
      .run({ task, port: port2, memoryBudgetBytes: this.budgetBytes, deleted: { first: this.deleted.first, prefixes: [...this.deleted.prefixes] } }, { transferList: [port2], signal: abort.signal })
      .then(
        () => (settled = { error: null }),
        (error: unknown) => (settled = { error }),
      )
      .finally(() => wake());

    let finished = false;
    let failed = false;
    try {
      for (;;) {
        if (stopped) throw (stopped as { error: S3ParquetError }).error;
        const m = inbox.shift();
        if (m === undefined) {
          // A task that resolved has posted its last message already (it may still be on its
          // way: the port and piscina's channel are not ordered with each other).
          const died = settled as { error: unknown } | null;
          if (died && died.error !== null) throw workerDied(died.error, this.budgetBytes);
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if (m.t === 'batch') {
          onProgress?.(m.stats);
          yield m.bytes;
          port1.postMessage({ t: 'ack' });
        } else if (m.t === 'stats') {
          onStats?.(m.stats);
        } else if (m.t === 'end') {
          finished = true;
          this.o.onQuery?.(m.stats);
          return m.stats;
        } else {
          throw new S3ParquetError(m.code, m.message);
        }
      }
    } catch (err) {
      failed = true;
      const s = stopped as { reason: StopReason } | null;
      this.o.onStop?.(s ? s.reason : err instanceof S3ParquetError && err.code === 'QUERY_MEMORY_EXCEEDED' ? 'memory' : 'error');
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onClientGone);
      if (!finished && !failed) {
        // The caller stopped reading (an answer over its size limit, a failed write, a search
        // that found enough). The worker, most likely waiting for an acknowledgement, sees its
        // port close and ends the task, keeping its thread and footer cache; one still busy
        // after a grace period is terminated.
        // A caller that stopped because its client left (the write failed before the socket's
        // close reached `signal`) is a disconnect: the worker is stopped at once.
        const gone = signal?.aborted === true;
        const error = new S3ParquetError('INTERNAL', gone ? 'the client closed the connection' : 'the query was abandoned');
        stopped = { reason: gone ? 'client_closed' : 'abandoned', error };
        this.o.onStop?.(stopped.reason);
        if (gone) abort.abort(error);
        else if ((settled as { error: unknown } | null) === null) {
          const grace = setTimeout(() => abort.abort(error), ABANDON_GRACE_MS);
          grace.unref();
          void done.finally(() => clearTimeout(grace));
        }
      }
      port1.close();
      this.admitted--;
    }
  }

  /** Resolves once every worker has loaded its modules (pool-warm.ts). */
  warm(): Promise<void> {
    return warmPool(this.pool);
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** The worker ended without an answer: out of memory (its heap limit), or it crashed. */
function workerDied(error: unknown, budgetBytes: number): S3ParquetError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new S3ParquetError('QUERY_MEMORY_EXCEEDED', `the query needed more than its memory budget of ${Math.round(budgetBytes / 2 ** 20)} MiB ([query] max_memory_mb_per_query) and its worker was stopped; narrow it (time range, filter, limit) or stream it as ndjson`);
  }
  return new S3ParquetError('INTERNAL', `the query worker failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
