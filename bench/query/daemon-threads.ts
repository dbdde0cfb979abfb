/**
 * Where a broad query's CPU goes inside the daemon: the daemon (from dist/) over a lake, one
 * broad query read by `curl` in a process of its own, and the CPU seconds of each of the
 * daemon's threads over it from /proc — the main thread (the receivers' event loop, which
 * routes the answer's batches to the socket) against the query worker and the rest. Needs
 * `npm run build` first.
 *
 *   npx tsx bench/query/daemon-threads.ts <dataDir> [format=ndjson] [runs=2] [queryToml]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchDaemon } from '../harness/daemon.js';
import { cpuSecondsByThread } from '../harness/proc.js';

const dataDir = process.argv[2];
const format = process.argv[3] ?? 'ndjson';
const runs = Number(process.argv[4] ?? 2);
const queryToml = (process.argv[5] ?? '').replaceAll('\\n', '\n');
if (!dataDir) throw new Error('usage: daemon-threads.ts <dataDir> [format] [runs] [queryToml]');

function curl(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('curl', ['-sS', '--fail', '-o', '/dev/null', '-X', 'POST', '-H', 'content-type: application/json', '--data', JSON.stringify({ dataset: 'traces', format }), `http://127.0.0.1:${port}/api/v1/query`], { stdio: ['ignore', 'ignore', 'inherit'] });
    c.once('error', reject);
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl: exit code ${code}`))));
  });
}

const dir = await mkdtemp(join(tmpdir(), 's3pq-threads-'));
const d = await startBenchDaemon(dir, '[wal]\nfsync = "never"', dataDir, [], `workers = 2\nmax_concurrent_queries = 8\ntimeout_seconds = 600\nmax_memory_mb_per_query = 3072\n${queryToml}`);
try {
  await curl(d.ports.query!); // warm up
  for (let i = 0; i < runs; i++) {
    const before = await cpuSecondsByThread(d.child.pid!);
    const t0 = performance.now();
    await curl(d.ports.query!);
    const ms = Math.round(performance.now() - t0);
    const after = await cpuSecondsByThread(d.child.pid!);
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, +(v - (before[k] ?? 0)).toFixed(2)]).filter(([, v]) => (v as number) > 0));
    console.log(JSON.stringify({ format, ms, cpuSecondsByThread: delta }));
  }
} finally {
  await d.stop();
  await rm(dir, { recursive: true, force: true });
}
