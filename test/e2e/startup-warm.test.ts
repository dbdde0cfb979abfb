/**
 * Ready means every thread can work: the daemon reports "daemon started" (and /readyz ready)
 * only once its query workers and encode workers have loaded their modules
 * (src/runtime/pool-warm.ts). Before, each worker's start-up (~0.5–0.7 CPU-seconds of module
 * loading) ran after the daemon said it was started, on the CPU its first requests needed.
 * An idle daemon that has reported started therefore burns (almost) no CPU.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-warm-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** User + system CPU seconds of every thread of `pid` (Linux /proc, clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe('start-up', () => {
  it.runIf(process.platform === 'linux')('loads the query and encode workers before the daemon reports started', async () => {
    const config = join(dir, 'warm.toml');
    await writeFile(
      config,
      `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\nworkers = 2\n[telemetry]\nenabled = false\n[storage]\nlocal_path = "${join(dir, 'data')}"\n[parquet]\nencode_workers = 1\n[compaction]\nenabled = false\n`,
    );
    const serving = await startServe(['--config', config]);
    try {
      const pid = serving.child.pid!;
      const atStart = await cpuSeconds(pid);
      await new Promise((r) => setTimeout(r, 800));
      const idle = (await cpuSeconds(pid)) - atStart;
      // Three workers loading after "started" cost ~1.5–2 CPU-seconds here; an idle daemon, ~0.
      expect(idle, `CPU-seconds spent in the 0.8 s after "daemon started", idle`).toBeLessThan(0.25);
    } finally {
      serving.child.kill('SIGTERM');
      await serving.exited;
    }
  });
});
