/**
 * Memory a thread keeps between flushes (the IPC hand-off buffer, the sort arena) is let go
 * once no flush has come for a while: writing fresh pages costs a page fault each, so reuse pays
 * while flushes come, and an idle daemon need not hold the memory (docs/performance-tuning.md).
 */

/** How long kept memory outlives the last flush: longer than the gap between flushes under load. */
export const KEPT_MEMORY_IDLE_MS = 60_000;

/** Calls `release` once `KEPT_MEMORY_IDLE_MS` pass without a `touch()`; the timer is unref'd, so it never keeps a process alive. */
export class IdleRelease {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly release: () => void) {}

  /** The memory was just used: (re)arms the release. */
  touch(): void {
    if (this.timer !== null) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.release();
    }, KEPT_MEMORY_IDLE_MS);
    this.timer.unref();
  }
}
