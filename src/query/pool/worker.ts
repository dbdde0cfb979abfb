/**
 * A query worker (piscina): runs the query engine — footer and page reads, decoding,
 * filtering, serialisation — off the receivers' event loop, and streams the answer back in
 * batches, at most `BATCHES_IN_FLIGHT` ahead of the socket. A worker runs one query at a time,
 * so its heap limit (piscina `resourceLimits`: the budget plus the worker's own footprint) is
 * that query's; where records are gathered the budget is also checked every few thousand, for
 * a clear error before V8 has to stop the thread.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { workerData } from 'node:worker_threads';
import { createLogger } from '../../logger.js';
import { S3ParquetError, toS3ParquetError } from '../../errors.js';
import { openStore } from '../../store/index.js';
import { emptyStats, type QueryEngine, type QueryStats } from '../engine.js';
import { engineFromConfig } from '../engine-from-config.js';
import { execute } from './execute.js';
import { BATCHES_IN_FLIGHT, type AckMessage, type StoreCall, type WorkerInit, type WorkerMessage, type WorkerTask } from './messages.js';

const init = workerData as WorkerInit;

// Linux: a thread's nice value is its own (setpriority on its thread id), so query workers
// yield the CPU to the receivers' thread on a busy machine. Best effort elsewhere.
if (init.config.query.worker_nice > 0) {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, init.config.query.worker_nice);
  } catch {
    // not Linux, or not permitted: run at the daemon's priority
  }
}

/** Store requests not yet reported to the main thread (sent with the next message). */
let storeCalls: StoreCall[] = [];
function takeStoreCalls(): StoreCall[] {
  const calls = storeCalls;
  storeCalls = [];
  return calls;
}
const onRequest = (operation: string, ok: boolean, ms: number, error?: Error): void => {
  storeCalls.push({ operation, ok, ms, ...(error ? { error: error.message } : {}) });
};

let engine: Promise<QueryEngine> | null = null;
function getEngine(): Promise<QueryEngine> {
  engine ??= openStore(init.config, createLogger('silent'), init.instanceId, { readOnly: true, onRequest }).then(
    (store) => engineFromConfig(init.config, store, init.instanceId),
    (err: unknown) => {
      engine = null; // the next query tries again (a store that was briefly unreachable)
      throw err;
    },
  );
  return engine;
}


/** Deletions (numbered) this worker's engine has forgotten the footers of. */
let forgottenThrough = 0;

function forgetDeleted(e: QueryEngine, deleted: WorkerTask['deleted']): void {
  const last = deleted.first + deleted.prefixes.length - 1;
  if (last <= forgottenThrough) return;
  if (deleted.first > forgottenThrough + 1) e.forget(''); // missed some: forget every footer
  else for (let n = forgottenThrough + 1; n <= last; n++) e.forget(deleted.prefixes[n - deleted.first]!);
  forgottenThrough = last;
}

/** Loaded and ready (pool-warm.ts): the daemon waits for this before it reports started. */
export function warm(): void {}

export default async function runQuery({ task, port, memoryBudgetBytes, deleted }: WorkerTask): Promise<void> {
  let credits = BATCHES_IN_FLIGHT;
  let wake: (() => void) | null = null;
  let closed = false;
  port.on('message', (_m: AckMessage) => {
    credits++;
    wake?.();
  });
  port.on('close', () => {
    closed = true;
    wake?.();
  });
  // Checked where a query gathers its answer in memory (arrow, trace lookups): there the heap's
  // growth (and the Arrow buffers outside the heap) is live data. A streamed answer holds a batch or two; its bound is V8's heap limit.
  const heapAtStart = getHeapStatistics().used_heap_size;
  const checkMemory = (externalBytes = 0): void => {
    const used = getHeapStatistics().used_heap_size - heapAtStart + externalBytes;
    if (used > memoryBudgetBytes) {
      throw new S3ParquetError('QUERY_MEMORY_EXCEEDED', `the query needed more than its memory budget of ${Math.round(memoryBudgetBytes / 2 ** 20)} MiB ([query] max_memory_mb_per_query); narrow it (time range, filter, limit) or stream it as ndjson`);
    }
  };
  const stats = emptyStats();
  const send = async (bytes: Uint8Array): Promise<void> => {
    while (credits === 0 && !closed) await new Promise<void>((r) => (wake = r));
    if (closed) throw new S3ParquetError('INTERNAL', 'the query was abandoned');
    credits--;
    port.postMessage({ t: 'batch', bytes, stats: { ...stats }, store: takeStoreCalls() } satisfies WorkerMessage, [bytes.buffer as ArrayBuffer]);
  };
  try {
    const onStats = (st: QueryStats): void => port.postMessage({ t: 'stats', stats: st, store: takeStoreCalls() } satisfies WorkerMessage);
    const e = await getEngine();
    forgetDeleted(e, deleted);
    for await (const batch of execute(e, task, stats, { checkMemory, onStats, memoryBudgetBytes })) await send(batch);
    port.postMessage({ t: 'end', stats, store: takeStoreCalls() } satisfies WorkerMessage);
  } catch (e) {
    const err = toS3ParquetError(e);
    if (!closed) port.postMessage({ t: 'error', code: err.code, message: err.message, store: takeStoreCalls() } satisfies WorkerMessage);
  } finally {
    port.removeAllListeners();
  }
}
