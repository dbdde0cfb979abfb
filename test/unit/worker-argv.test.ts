import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { perThreadFlags } from '../../src/worker-argv.js';

describe('perThreadFlags', () => {
  it('keeps module loading, profiling and warnings, with their separate values', () => {
    expect(
      perThreadFlags(['--import', 'tsx', '--conditions=dev', '-r', './x.cjs', '--cpu-prof', '--cpu-prof-dir', '/tmp/p', '--enable-source-maps', '--no-warnings']),
    ).toEqual(['--import', 'tsx', '--conditions=dev', '-r', './x.cjs', '--cpu-prof', '--cpu-prof-dir', '/tmp/p', '--enable-source-maps', '--no-warnings']);
  });

  it('drops V8 and process-wide flags, and their separate values', () => {
    expect(
      perThreadFlags(['--max-semi-space-size=64', '--max-old-space-size', '512', '--expose-gc', '--title', 'daemon', '--single-threaded-gc', '--import=tsx']),
    ).toEqual(['--import=tsx']);
  });

  it('gives a Worker only flags it accepts, where the whole execArgv is refused', async () => {
    const argv = ['--max-semi-space-size=32', '--expose-gc', '--v8-pool-size=2', '--no-warnings'];
    expect(() => new Worker('0', { eval: true, execArgv: argv })).toThrow(/invalid execArgv flags/);
    const w = new Worker('0', { eval: true, execArgv: perThreadFlags(argv) });
    const [code] = (await once(w, 'exit')) as [number];
    expect(code).toBe(0);
  });
});
