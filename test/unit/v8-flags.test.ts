/**
 * The V8 flags `serve` sets for itself at start-up (src/runtime/v8-flags.ts): an operator's own
 * value wins, and each flag the list holds for this Node's V8 really changes V8's behaviour when
 * set at run time (not only on the command line). A child process counts how many calls a small
 * function takes until TurboFan has compiled it (`%GetOptimizationStatus`, compiles made
 * synchronous so the count does not depend on the machine's load), without and with the flags.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { applyV8Flags, daemonV8Flags, operatorFlagNames, v8FlagName } from '../../src/runtime/v8-flags.js';

const MODULE = new URL('../../dist/runtime/v8-flags.js', import.meta.url).href;

// 64: V8's "TurboFanned" bit of %GetOptimizationStatus (V8 11 to 13).
const script = (apply: boolean): string => `
import { applyV8Flags, daemonV8Flags } from '${MODULE}';
${apply ? 'console.error(JSON.stringify(applyV8Flags(daemonV8Flags(), [], "")));' : ''}
function sum(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s; }
const a = new Array(50).fill(1);
let calls = 0;
while (!(%GetOptimizationStatus(sum) & 64) && calls < 1e7) { sum(a); calls++; }
console.log(calls);
`;

async function callsUntilTurboFan(apply: boolean): Promise<{ calls: number; applied: string }> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '--input-type=module', '-e', script(apply)], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { calls: Number(stdout.trim()), applied: stderr.trim() };
}

describe('the daemon V8 flags', () => {
  it('are chosen by V8 major version: V8 11 (Node 20) raises the interrupt budget; an unmeasured version gets none', () => {
    expect(daemonV8Flags('11.3.244.8-node.33')).toEqual(['--interrupt-budget=540672']);
    expect(daemonV8Flags('99.0.0')).toEqual([]);
  });

  it(`take effect when set at run time on this Node (${process.versions.node}, V8 ${process.versions.v8})`, async () => {
    const flags = daemonV8Flags();
    const without = await callsUntilTurboFan(false);
    const withFlags = await callsUntilTurboFan(true);
    expect(withFlags.applied).toBe(JSON.stringify(flags));
    expect(without.calls).toBeGreaterThan(0);
    expect(without.calls).toBeLessThan(1e7);
    if (flags.length === 0) {
      // Nothing set: V8 tiers up as it always does.
      expect(withFlags.calls).toBe(without.calls);
    } else {
      // V8 11: 46 calls → 358 (the budget × 8, measured).
      expect(withFlags.calls).toBeGreaterThanOrEqual(4 * without.calls);
    }
  }, 60_000);

  it("leave a flag the operator set alone (command line or NODE_OPTIONS, either spelling, negations included)", () => {
    expect(v8FlagName('--interrupt_budget=100')).toBe('--interrupt-budget');
    expect(v8FlagName('--no-use-osr')).toBe('--use-osr');
    const names = operatorFlagNames(['--interrupt_budget=100', '--no-use-osr'], ' --max-old-space-size=900  --enable-source-maps');
    expect([...names].sort()).toEqual(['--enable-source-maps', '--interrupt-budget', '--max-old-space-size', '--use-osr']);
    // Nothing is set in this process: every flag is the operator's.
    expect(applyV8Flags(['--interrupt-budget=540672', '--use-osr'], ['--interrupt-budget=100'], '--no-use-osr')).toEqual([]);
  });
});
