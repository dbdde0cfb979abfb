/**
 * Starts a piscina pool's threads and waits until each has loaded its module.
 *
 * A worker thread's start-up (loading its modules, compiling wasm) is ~0.3–0.7 CPU-seconds.
 * Left to itself it runs after the daemon says it is started, on the CPU the first requests
 * need, and the first query or flush waits for it. The daemon calls this before it reports
 * ready, so ready means every thread can work, and start-up is paid before traffic arrives.
 *
 * Each worker module exports a no-op `warm`; one call per thread, all at once, gives every
 * thread one (the daemon's pools start all their threads, `minThreads = maxThreads`, and run
 * one task per thread at a time: `concurrentTasksPerWorker: 1`).
 */
import type { Piscina } from 'piscina';

/** The name of the no-op export every pooled worker module has. */
export const WARM_TASK = 'warm';

export async function warmPool<T, R>(pool: Piscina<T, R>): Promise<void> {
  // `warm` takes no task: nothing is sent in place of the pool's task type.
  const none = undefined as unknown as T;
  await Promise.all(Array.from({ length: pool.maxThreads }, () => pool.run(none, { name: WARM_TASK })));
}
