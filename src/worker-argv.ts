/**
 * The Node flags worker threads start with.
 *
 * A Worker is given the process's flags that act per thread: how modules load (`--import`,
 * `--require`, `--loader`, `--conditions`), source maps, profiling and warnings. Everything else
 * stays with the process: Node refuses V8 flags (`--max-semi-space-size`, `--max-old-space-size`)
 * and process-wide ones (`--expose-gc`, `--title`) in a worker's `execArgv` and throws at the
 * pool's start, which stopped a daemon an operator started with a heap flag. V8 flags apply to
 * the whole process anyway, workers included. Run from sources (tests), workers load tsx.
 */

/** Per-thread flags whose value may come as the next argument (`--import tsx`). */
const TAKES_VALUE = new Set([
  '--import',
  '--require',
  '-r',
  '--loader',
  '--experimental-loader',
  '--conditions',
  '-C',
  '--cpu-prof-dir',
  '--cpu-prof-name',
  '--cpu-prof-interval',
  '--heap-prof-dir',
  '--heap-prof-name',
  '--heap-prof-interval',
]);

/** Flags passed on to workers, by name (the part before any `=`). */
const PER_THREAD = new Set([
  ...TAKES_VALUE,
  '--enable-source-maps',
  '--cpu-prof',
  '--heap-prof',
  '--no-warnings',
  '--trace-warnings',
  '--trace-uncaught',
  '--no-deprecation',
  '--trace-deprecation',
  '--throw-deprecation',
]);

/**
 * The flags of `execArgv` a worker may start with; a kept flag's value, when it comes as the next
 * argument, stays with it. A dropped flag's separate value (`--title daemon`) is dropped too:
 * it is not a flag name.
 */
export function perThreadFlags(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    const name = flag.split('=', 1)[0]!;
    if (!PER_THREAD.has(name)) continue;
    out.push(flag);
    if (TAKES_VALUE.has(name) && !flag.includes('=') && i + 1 < execArgv.length) out.push(execArgv[++i]!);
  }
  return out;
}

export function workerExecArgv(fromSources: boolean): string[] {
  const inherited = perThreadFlags(process.execArgv);
  return fromSources ? [...inherited, '--import', 'tsx'] : inherited;
}
