/** CPU time of this process (user + system, every thread) spent in a call, for in-process benches. */

/** CPU milliseconds spent in `fn`. */
export function cpuMs(fn: () => void): number {
  const c = process.cpuUsage();
  fn();
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000;
}

/** CPU milliseconds until `fn`'s promise settles (other work of the process in between counts too). */
export async function cpuMsAsync(fn: () => Promise<unknown>): Promise<number> {
  const c = process.cpuUsage();
  await fn();
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000;
}
