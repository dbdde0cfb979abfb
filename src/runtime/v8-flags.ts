/**
 * V8 flags the daemon (`serve`) sets for itself at start-up, by `v8.setFlagsFromString`, so
 * `npm start`, the `s3-parquet-connector` bin and the Docker image all run with them without a
 * wrapper or a re-exec. Measured in bench/NOTES.md and docs/performance-tuning.md.
 *
 * Only flags V8 reads each time it uses them may be set this way: a flag fixed when the heap is
 * set up (`--max-semi-space-size`) silently does nothing, and GC threading flags
 * (`--single-threaded-gc`, `--no-concurrent-marking`) set after start-up abort the process at
 * the next mark-compact (a V8 CHECK, measured on Node 20.20). A test pins that each flag listed
 * here changes V8's behaviour when set at run time.
 *
 * The operator's own value wins: a flag of the same name on the command line or in
 * NODE_OPTIONS leaves it alone. The library (`S3ParquetConnector` in someone else's process)
 * never calls this: flags are process-wide, and a host's are its own.
 */
import v8 from 'node:v8';

/**
 * The flags for this process's V8 (`process.versions.v8`), or none.
 *
 * V8 11 (Node 20): `--interrupt-budget`, how much bytecode a function runs (67,584 by default)
 * before V8 considers it for optimization. The daemon's hot paths are few and warm within the
 * first requests; at the default, TurboFan keeps compiling (and deoptimizing) lukewarm ones
 * through the whole run (~58 compiles per 400 requests in steady state, bench/NOTES "h-jit8").
 * Eight times the budget tiers up only what stays hot. V8 12+ (Node 22, 24) has no such flag
 * (it counts invocations, `--invocation-count-for-turbofan`): see DAEMON_V8_FLAGS_BY_MAJOR.
 */
export function daemonV8Flags(v8Version: string = process.versions.v8): readonly string[] {
  return DAEMON_V8_FLAGS_BY_MAJOR.get(Number(v8Version.split('.', 1)[0])) ?? [];
}

/** By V8 major version; a version not listed runs with V8's defaults (not measured). */
const DAEMON_V8_FLAGS_BY_MAJOR: ReadonlyMap<number, readonly string[]> = new Map([[11, ['--interrupt-budget=540672']]]);

/**
 * The flag's name as V8 compares them: without a value, without `--no-` (the negation of the
 * same flag), with `_` read as `-` (V8 accepts both spellings).
 */
export function v8FlagName(flag: string): string {
  const name = flag.split('=', 1)[0]!.replaceAll('_', '-');
  return name.startsWith('--no-') ? `--${name.slice(5)}` : name;
}

/** The names of the flags the operator gave the process: its command line and NODE_OPTIONS. */
export function operatorFlagNames(execArgv: readonly string[], nodeOptions: string): Set<string> {
  const names = new Set<string>();
  for (const arg of [...execArgv, ...nodeOptions.split(/\s+/)]) if (arg.startsWith('--')) names.add(v8FlagName(arg));
  return names;
}

/**
 * Sets each of `flags` the operator has not set (by name) and returns the ones it set, in order,
 * so the daemon can log what it runs with.
 */
export function applyV8Flags(
  flags: readonly string[],
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const operator = operatorFlagNames(execArgv, nodeOptions);
  const applied: string[] = [];
  for (const flag of flags) {
    if (operator.has(v8FlagName(flag))) continue;
    v8.setFlagsFromString(flag);
    applied.push(flag);
  }
  return applied;
}
