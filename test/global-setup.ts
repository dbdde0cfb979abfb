/**
 * Builds dist/ once per test run, so tests that spawn the real CLI (`node dist/cli.js`) always
 * run the current sources.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
