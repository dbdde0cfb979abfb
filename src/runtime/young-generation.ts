/**
 * Keeps V8's young generation (the semi-spaces where short-lived objects are born) at most
 * `maxSemiSpaceMb` per semi-space, as `--max-semi-space-size` does, without a command-line flag.
 *
 * Why (issue 20): the daemon's memory bound (`memory_limit_mb` + 150 MiB) is tight with a small
 * limit, and Node 22+ lets the young generation grow to 64 MiB per semi-space (Node 20: 16),
 * which under a replay or a drain's garbage added ~50 MiB of RSS. `--max-semi-space-size` is
 * fixed when the heap is set up, so `v8.setFlagsFromString` at start-up does not change it
 * (measured: no effect on Node 20 or 24). V8 reads `--semi-space-growth-factor` each time it
 * grows the young generation, though: after every garbage collection this sets the factor to 1
 * (no growth) once the young generation has reached the cap, and back to 2 (V8's default)
 * when V8 has shrunk it below, so it still grows under load up to the cap.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const MIB = 1024 * 1024;
const DEFAULT_GROWTH = 2;

/** The young generation's current size (both semi-spaces), in bytes. */
export function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** Starts capping; returns a function that stops it (and lets V8 grow as it likes again). */
export function capYoungGeneration(maxSemiSpaceMb: number): () => void {
  // new_space counts both semi-spaces.
  const cap = 2 * maxSemiSpaceMb * MIB;
  let factor = DEFAULT_GROWTH;
  const adjust = (): void => {
    const want = youngGenerationBytes() >= cap ? 1 : DEFAULT_GROWTH;
    if (want === factor) return;
    factor = want;
    v8.setFlagsFromString(`--semi-space-growth-factor=${want}`);
  };
  adjust();
  const observer = new PerformanceObserver(adjust);
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    if (factor !== DEFAULT_GROWTH) v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`);
  };
}
