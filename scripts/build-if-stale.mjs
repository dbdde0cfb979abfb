#!/usr/bin/env node
// `npm start` runs this first: it compiles (tsc -p tsconfig.build.json) only when something the
// build reads is newer than dist/, so a start with nothing changed takes milliseconds, not the
// 10+ s of a full compile. Anything unusual (no dist/, an unreadable file) simply builds.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', 'cli.js');

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs; // a deleted source file changes its directory's mtime
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

function stale() {
  try {
    const built = statSync(stamp).mtimeMs;
    const inputs = ['src', 'proto', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
    return inputs.some((p) => newest(join(root, p)) > built);
  } catch {
    return true;
  }
}

if (stale()) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
