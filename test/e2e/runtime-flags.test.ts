/**
 * `serve` runs with the daemon's V8 flags (src/runtime/v8-flags.ts) however it is started
 * (`npm start`, the bin and the bench harness all run `node dist/cli.js serve`), says so in its
 * `runtime settings` log line, keeps an operator's own value of such a flag, and keeps the
 * operator's NODE_OPTIONS (the heap limit they set is the heap limit it runs with).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonV8Flags, v8FlagName } from '../../src/runtime/v8-flags.js';
import { startServe } from '../helpers/cli.js';

let dir: string;
let config: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-v8flags-'));
  config = join(dir, 'serve.toml');
  await writeFile(
    config,
    `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\n[storage]\nlocal_path = "${join(dir, 'data')}"\n[wal]\nenabled = false\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runtimeSettings(options: Parameters<typeof startServe>[1]): Promise<Record<string, unknown>> {
  const serving = await startServe(['--config', config], options);
  try {
    const line = serving.lines.find((l) => l.msg === 'runtime settings');
    expect(line).toBeDefined();
    return line!;
  } finally {
    serving.child.kill('SIGTERM');
    expect(await serving.exited).toBe(0);
  }
}

describe('the daemon runtime settings', () => {
  it(`sets the daemon's V8 flags for V8 ${process.versions.v8} and keeps the operator's NODE_OPTIONS`, async () => {
    const line = await runtimeSettings({ env: { NODE_OPTIONS: '--max-old-space-size=900' } });
    expect(line.v8Flags).toEqual(daemonV8Flags());
    expect(line.node).toBe(process.versions.node);
    expect(line.nodeOptions).toBe('--max-old-space-size=900');
    // The heap limit is the old space plus the young generation: about 900 MiB, not the default.
    expect(line.heapLimitMb).toBeGreaterThanOrEqual(900);
    expect(line.heapLimitMb).toBeLessThan(1000);
  }, 60_000);

  it("keeps the operator's own value of a flag it would set", async () => {
    const [flag] = daemonV8Flags();
    // A V8 the list has nothing for: any flag on the command line is kept, and nothing is set.
    const own = flag === undefined ? '--stack-size=900' : `${v8FlagName(flag)}=${Number(flag.split('=')[1]) / 2}`;
    const line = await runtimeSettings({ nodeArgs: [own], env: { NODE_OPTIONS: '' } });
    expect(line.v8Flags).toEqual([]);
    expect(line.execArgv).toEqual([own]);
  }, 60_000);
});
