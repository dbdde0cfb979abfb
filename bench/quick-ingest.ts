/**
 * Quick ingest measurement (issue 2's note): the daemon as a separate process, fed
 * HTTP/protobuf trace requests by C concurrent clients; reports accepted spans/s, the daemon's
 * CPU seconds (user + system) and spans per CPU-second (≈ one core).
 *
 *   npx tsx bench/quick-ingest.ts [requests=400] [spansPerRequest=512] [concurrency=4]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { traceRequests } from './load/traces.js';

const [requests = 400, perRequest = 512, concurrency = 4] = process.argv.slice(2).map(Number);
const TICKS = 100; // USER_HZ on Linux

async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(stat[11]) + Number(stat[12])) / TICKS; // utime + stime
}

const dir = await mkdtemp(join(tmpdir(), 's3pq-bench-'));
const config = join(dir, 'bench.toml');
await writeFile(config, `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[storage]\nlocal_path = "${dir}/data"\n[log]\nlevel = "warn"\n`);
const payloads = traceRequests(42, Math.min(requests, 64), perRequest);
const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : []), 'dist/cli.js', 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info' } });
const port = await new Promise<number>((resolve) => {
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const e = JSON.parse(l) as { msg: string; transport?: string; port?: number };
    if (e.msg === 'receiver listening' && e.transport === 'http') resolve(e.port!);
  });
});
const url = `http://127.0.0.1:${port}/v1/traces`;
const send = async (i: number) => {
  const res = await fetch(url, { method: 'POST', body: payloads[i % payloads.length]!, headers: { 'content-type': 'application/x-protobuf' } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
};
for (let i = 0; i < 16; i++) await send(i); // warm-up
const cpu0 = await cpuSeconds(child.pid!);
const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < requests) await send(next++);
}));
const wall = (performance.now() - t0) / 1000;
const cpu = (await cpuSeconds(child.pid!)) - cpu0;
const spans = requests * perRequest;
console.log(JSON.stringify({ requests, perRequest, concurrency, spans, wallSeconds: +wall.toFixed(2), spansPerSecond: Math.round(spans / wall), daemonCpuSeconds: +cpu.toFixed(2), spansPerCpuSecond: Math.round(spans / cpu) }));
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await rm(dir, { recursive: true, force: true });
