/**
 * The Node flags worker threads start with. A Worker inherits the process's `execArgv`, but Node
 * refuses some process-wide flags in a worker (`--expose-gc`, which the test suite runs with to
 * catch leaked file handles), so those are left out; run from sources (tests), workers load tsx.
 */
const PROCESS_ONLY_FLAGS = new Set(['--expose-gc', '--expose_gc']);

export function workerExecArgv(fromSources: boolean): string[] {
  const inherited = process.execArgv.filter((flag) => !PROCESS_ONLY_FLAGS.has(flag));
  return fromSources ? [...inherited, '--import', 'tsx'] : inherited;
}
