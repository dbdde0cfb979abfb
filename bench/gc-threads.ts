/**
 * Issue 19's garbage and V8-thread measurements: `bench/quick-ingest.ts`'s load (HTTP/protobuf
 * traces, C clients, CPU until every span is stored) with the daemon's CPU split by thread
 * (/proc/PID/task: the main thread, V8's platform threads, others; each thread's last reading
 * before it exited), peak RSS and the load average. Options by environment:
 *   NODE_ARGS="--trace-gc"  flags for the daemon (GC_LOG=FILE keeps its non-JSON output, e.g. the GC trace)
 *   HEAP_OUT=FILE NODE_ARGS="-r ./bench/gc-heap-sample.cjs"  sampling heap profile of the measured
 *                           ingest, what GC freed included (summed by `node bench/gc-heap-report.mjs FILE SPANS`)
 *   PERF_OUT=FILE           `perf record -g` of the daemon over the measured ingest (which threads do what)
 *   SHOW_THREADS=1          every thread's CPU seconds on stderr
 *   TRACE_CUT=400           with GC_LOG: each kept line prefixed by the measured request count
 *                           at its arrival ÷ 400 (a census per 400 requests of `--trace-opt
 *                           --trace-deopt` lines: `node bench/jit-census.mjs FILE`); −1 = warm-up
 *
 *   npx tsx bench/gc-threads.ts [requests=400] [spansPerRequest=512] [concurrency=4]
 */
import { mkdtemp, rm, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, startBenchDaemon } from './harness/daemon.js';
import { traceRequests } from './load/traces.js';
const [requests = 400, perRequest = 512, concurrency = 4] = process.argv.slice(2).map(Number);
const dir = await mkdtemp(join(tmpdir(), 's3pq-bench-'));
const d = await startBenchDaemon(dir, process.env.BENCH_TOML ?? '', `${dir}/data`, (process.env.NODE_ARGS ?? '').split(' ').filter(Boolean));
const pid = d.child.pid!;
const gcLines: string[] = [];
const cut = Number(process.env.TRACE_CUT ?? 0);
let next = -1; // requests sent in the measured window (−1: start-up and warm-up)
let partial = '';
if (process.env.GC_LOG) d.child.stdout!.on('data', (b: Buffer) => {
  // Lines may straddle chunks: keep the tail for the next one.
  const lines = (partial + b.toString()).split('\n');
  partial = lines.pop()!;
  for (const l of lines) if (l && !l.startsWith('{')) gcLines.push(cut > 0 ? `${next < 0 ? -1 : Math.floor(next / cut)}\t${l}` : l);
});
async function threads(): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const t of await readdir(`/proc/${pid}/task`)) {
    try {
      const comm = (await readFile(`/proc/${pid}/task/${t}/comm`, 'utf8')).trim();
      const f = (await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      m.set(`${t} ${comm}`, (Number(f[11]) + Number(f[12])) / 100);
    } catch {}
  }
  return m;
}
const payloads = traceRequests(42, requests + 16, perRequest);
const url = `http://127.0.0.1:${d.ports.http}/v1/traces`;
let resets = 0;
const latencies: number[] = []; // ms per measured request (p99: does a flag move GC work onto the event loop?)
const send = async (i: number): Promise<void> => {
  let res: Response;
  const t = performance.now();
  try {
    res = await fetch(url, { method: 'POST', body: payloads[i]!, headers: { 'content-type': 'application/x-protobuf' } });
  } catch (err) {
    // As quick-ingest.ts: a kept-alive connection the daemon closed as idle resets; send again.
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET' || ++resets > 20) throw err;
    return send(i);
  }
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  if (next >= 0) latencies.push(performance.now() - t);
};
for (let i = 0; i < 16; i++) await send(requests + i);
if (process.env.HEAP_OUT) { process.kill(pid, 'SIGUSR2'); await new Promise((r) => setTimeout(r, 200)); }
const perf = process.env.PERF_OUT ? (await import('node:child_process')).spawn('perf', ['record', '-F', '997', '-g', '-p', String(pid), '-o', process.env.PERF_OUT], { stdio: 'ignore' }) : undefined;
if (perf) await new Promise((r) => setTimeout(r, 500));
let peak = await d.rssMb();
const sampler = setInterval(() => void d.rssMb().then((v) => (peak = Math.max(peak, v)), () => undefined), 50);
const t0 = await threads();
const cpu0 = await d.cpuSeconds();
const last = new Map(t0);
next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => { while (next < requests) await send(next++); }));
// Poll the thread table until SIGTERM's exit; the last reading before it is gone counts.
const exit = new Promise((r) => d.child.once('exit', r));
const cpuP = d.stop();
for (;;) { try { const r = await threads(); if (r.size === 0) break; for (const [k, v] of r) last.set(k, v); } catch { break; } const done = await Promise.race([exit.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))]); if (done) break; }
const cpu = (await cpuP) - cpu0;
if (perf) await new Promise((r) => (perf.exitCode !== null ? r(null) : perf.once('exit', r)));
clearInterval(sampler);
const split = { main: 0, v8: 0, other: 0 };
for (const [k, v] of last) { const dv = v - (t0.get(k) ?? 0); const comm = k.split(' ').slice(1).join(' '); if (k.split(' ')[0] === String(pid)) split.main += dv; else if (comm.startsWith('node') || comm.includes('V8')) split.v8 += dv; else split.other += dv; if (process.env.SHOW_THREADS && dv > 0.02) console.error(k.padEnd(30), dv.toFixed(2)); }
const spans = requests * perRequest;
const la = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
console.log(JSON.stringify({ spansPerCpuSecond: Math.round(spans / cpu), cpu: +cpu.toFixed(2), main: +split.main.toFixed(2), v8: +split.v8.toFixed(2), other: +split.other.toFixed(2), peakRssMb: Math.round(peak), p50Ms: +percentile(latencies.sort((a, b) => a - b), 50).toFixed(1), p99Ms: +percentile(latencies, 99).toFixed(1), load: la }));
if (process.env.GC_LOG) (await import('node:fs')).writeFileSync(process.env.GC_LOG, gcLines.join('\n'));
await rm(dir, { recursive: true, force: true });
