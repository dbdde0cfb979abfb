/**
 * Issue 20: the daemon caps V8's young generation at run time (Node 22+ lets it grow to 64 MiB
 * per semi-space, ~50 MiB of RSS over the memory bound in a drain). A child process allocates
 * short-lived garbage with some survivors (what makes V8 grow the young generation) and reports
 * the largest young generation it saw: without the cap it passes the cap on Node 20 (32 MiB)
 * and 24 (64–128 MiB); with it, both stay at two semi-spaces of 8 MiB.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const MODULE = new URL('../../dist/runtime/young-generation.js', import.meta.url).href;

const script = (cap: boolean): string => `
import { capYoungGeneration, youngGenerationBytes } from '${MODULE}';
${cap ? 'capYoungGeneration(8);' : ''}
let keep = [];
let peak = 0;
for (let round = 0; round < 30; round++) {
  for (let i = 0; i < 100; i++) {
    const garbage = [];
    for (let j = 0; j < 2000; j++) garbage.push({ x: j, s: 'a' + j, b: new Uint8Array(64) });
    keep.push(new Uint8Array(10000));
    if (keep.length > 100) keep = [];
    peak = Math.max(peak, youngGenerationBytes());
  }
  await new Promise((r) => setImmediate(r));
}
console.log(peak / 1048576);
`;

async function peakYoungMb(cap: boolean): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(cap)], { env: { ...process.env, NODE_OPTIONS: '' } });
  return Number(stdout.trim());
}

describe('the young generation cap', () => {
  it(`keeps the young generation at two 8 MiB semi-spaces where V8 (Node ${process.versions.node}) grows it past them`, async () => {
    expect(await peakYoungMb(false)).toBeGreaterThan(16);
    expect(await peakYoungMb(true)).toBeLessThanOrEqual(16);
  }, 60_000);
});
