/**
 * The suite fails when a file handle is left to the garbage collector (Node's DEP0137
 * "Closing file descriptor N on garbage collection"): in a daemon that runs for months that is
 * a leak. Runs in every test file's worker (vitest `setupFiles`); `--expose-gc` (vitest
 * `execArgv`) lets the last hook collect, so a handle dropped by this file warns here, not in
 * some later file or never.
 */
import { afterAll } from 'vitest';

const leaks: string[] = [];
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code === 'DEP0137' || /on garbage collection/.test(warning.message)) leaks.push(warning.message);
});

afterAll(async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    // The warning is emitted on a later tick than the collection.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  }
  if (leaks.length > 0) {
    const found = leaks.splice(0);
    throw new Error(`file handle(s) closed on garbage collection (DEP0137), close every handle explicitly: ${found.join('; ')}`);
  }
});
