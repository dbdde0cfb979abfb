/**
 * Test-only pause points, so a crash test can kill -9 a compactor at a named step instead of
 * guessing by timing: with `S3PQ_COMPACTION_PAUSE_AT=merge|upload|swap` in its environment, the
 * first compaction to reach that step writes `compaction paused at {step}: {dataset}/{partition}`
 * to stderr and waits until the process is killed (docs/compaction.md, "Crashes").
 *
 * - `merge`:  the lease is held and the inputs are read; nothing is written yet.
 * - `upload`: the lease records the outputs (the intent) and they are uploaded; no swap yet.
 * - `swap`:   the swap entry is in the write log; the inputs are not queued for deletion and the
 *             lease (with its intent) is still there.
 *
 * Unset (always, outside tests) it costs one environment lookup per step.
 */
export type PausePoint = 'merge' | 'upload' | 'swap';

export const PAUSE_ENV = 'S3PQ_COMPACTION_PAUSE_AT';

export async function pausePoint(point: PausePoint, where: string): Promise<void> {
  if (process.env[PAUSE_ENV] !== point) return;
  process.stderr.write(`compaction paused at ${point}: ${where}\n`);
  // A timer keeps even the one-shot CLI alive until the kill.
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
}
