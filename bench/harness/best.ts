/** The fastest of `runs` runs of `fn` (wall-clock ms) and the row count it returned last. */
export async function best(runs: number, fn: () => Promise<number>): Promise<{ ms: number; rows: number }> {
  let ms = Number.POSITIVE_INFINITY;
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    rows = await fn();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, rows };
}
