/**
 * Where the daemon spends its CPU on the logs or metrics bench load: CPU by thread (from
 * /proc/PID/task/*\/stat, sampled until the daemon exits, so the shutdown flush counts) and,
 * with `--prof DIR`, a `--cpu-prof` of every thread broken down by stage (bench/harness/
 * stages.ts) with the top self-time functions. A piscina worker's `atomicsWaitLoop` is a
 * blocked wait, not CPU, and module loading is start-up: both are left out of the top list.
 * Run `npx tsc -p tsconfig.build.json` first (the daemon runs from dist/).
 *
 *   npx tsx bench/signals-profile.ts logs|metrics [requests] [clients] [--prof DIR]
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, startBenchDaemon } from './harness/daemon.js';
import { stageShares } from './harness/stages.js';
import { logRequests, metricRequests, METRICS_PER_REQUEST } from './load/logs-metrics.js';
import { LOGS_PER_REQUEST, SERIES_PER_METRIC } from './signals.js';

const args = process.argv.slice(2);
const profAt = args.indexOf('--prof');
const profDir = profAt >= 0 ? args.splice(profAt, 2)[1] : undefined;
const signal = args[0] === 'metrics' ? 'metrics' : 'logs';
const requests = Number(args[1] ?? (signal === 'logs' ? 200 : 150));
const clients = Number(args[2] ?? 4);
const perRequest = signal === 'logs' ? LOGS_PER_REQUEST : METRICS_PER_REQUEST * SERIES_PER_METRIC;
const payloads = signal === 'logs' ? logRequests(7, requests + 8, LOGS_PER_REQUEST) : metricRequests(9, requests + 8, SERIES_PER_METRIC);

const dir = await mkdtemp(join(tmpdir(), 's3pq-sigprof-'));
const nodeArgs = [...(process.env.NODE_ARGS ?? '').split(' ').filter(Boolean), ...(profDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])];
const d = await startBenchDaemon(dir, '', `${dir}/data`, nodeArgs);
const pid = d.child.pid!;
// With `NODE_ARGS=--trace-gc`: the daemon's GC lines (on its stdout) counted by kind.
const gcKinds = new Map<string, number>();
let gcCounting = false;
// `SIGNALS_TRACE_OUT=FILE`: the daemon's other stdout lines in the window (V8 traces such as
// `--trace-opt --trace-deopt`) go to FILE.
// With `TRACE_CUT=N` too, each line is prefixed by the measured requests sent ÷ N when it
// arrived, as bench/gc-threads.ts does, for `node bench/jit-census.mjs FILE` (steady state = slices ≥ 1).
const traceOut = process.env.SIGNALS_TRACE_OUT !== undefined ? createWriteStream(process.env.SIGNALS_TRACE_OUT) : undefined;
const traceCut = Number(process.env.TRACE_CUT ?? 0);
let tracePartial = '';
d.child.stdout!.on('data', (chunk: Buffer) => {
  if (!gcCounting) return;
  if (traceOut !== undefined && traceCut > 0) {
    // Lines may straddle chunks: the tail waits for the next one.
    const lines = (tracePartial + chunk.toString('latin1')).split('\n');
    tracePartial = lines.pop()!;
    for (const l of lines) if (l !== '' && !l.startsWith('{')) traceOut.write(`${Math.floor(next / traceCut)}\t${l}\n`);
  } else traceOut?.write(chunk);
  for (const line of chunk.toString('latin1').split('\n')) {
    const m = /ms: (Scavenge|Mark-Compact(?: \(reduce\))?|Minor Mark-Sweep|Mark-sweep)\b.*?(?:mu = [\d.]+\) )?([a-z][a-z ]+)?; ?$/.exec(line);
    if (m === null) continue;
    const key = m[1] === 'Scavenge' ? 'Scavenge' : `${m[1]} (${(m[2] ?? '?').trim()})`;
    gcKinds.set(key, (gcKinds.get(key) ?? 0) + 1);
  }
});

/** CPU seconds by thread ("tid name"). */
async function threads(): Promise<Map<string, number> | undefined> {
  const m = new Map<string, number>();
  try {
    for (const t of await readdir(`/proc/${pid}/task`)) {
      try {
        const comm = (await readFile(`/proc/${pid}/task/${t}/comm`, 'utf8')).trim();
        const f = (await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8')).split(') ')[1]!.split(' ');
        m.set(`${t} ${comm}`, (Number(f[11]) + Number(f[12])) / 100);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  } catch {
    return undefined; // the process is gone
  }
  return m;
}

const url = `http://127.0.0.1:${d.ports.http}/v1/${signal}`;
const latencies: number[] = []; // ms per measured request
let next = 0; // measured requests sent
let measuring = false;
const send = async (i: number): Promise<void> => {
  const t = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', body: payloads[i]!, headers: { 'content-type': 'application/x-protobuf' } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    if (measuring) latencies.push(performance.now() - t);
  } catch (err) {
    // A failed run (seen: ECONNRESET at load average 13) must not leave its daemon running.
    d.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
};
for (let i = 0; i < 8; i++) await send(requests + i); // warm-up
const t0 = (await threads())!;
gcCounting = true;
const cpu0 = await d.cpuSeconds();
let peak = await d.rssMb();
const sampler = setInterval(() => void d.rssMb().then((v) => (peak = Math.max(peak, v)), () => undefined), 50);
measuring = true;
next = 0;
await Promise.all(Array.from({ length: clients }, async () => {
  while (next < requests) await send(next++);
}));
// Sample the threads until the daemon exits; a thread's last reading holds its share of the
// shutdown flush (threads that end leave the listing, so each keeps its highest reading).
const last = new Map(t0);
let exited = false;
const exit = new Promise((r) => d.child.once('exit', r)).then(() => (exited = true));
const stopped = d.stop();
while (!exited) {
  const m = await threads();
  for (const [k, v] of m ?? []) last.set(k, Math.max(v, last.get(k) ?? 0));
  await Promise.race([exit, new Promise((r) => setTimeout(r, 10))]);
}
const cpu = (await stopped) - cpu0;
clearInterval(sampler);
const records = requests * perRequest;
latencies.sort((a, b) => a - b);
const load = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
console.log(`${signal}: ${records.toLocaleString('en')} records, ${cpu.toFixed(2)} CPU-s, ${Math.round(records / cpu).toLocaleString('en')} per CPU-second, peak RSS ${Math.round(peak)} MiB, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, load ${load}\n`);
if (gcKinds.size > 0) console.log(`GCs in the window: ${[...gcKinds].map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
console.log('| thread | CPU-s | % |\n|---|---|---|');
let total = 0;
const byName = new Map<string, number>();
for (const [k, v] of last) {
  const dv = v - (t0.get(k) ?? 0);
  total += dv;
  // Thread names are all "node" here: the main thread is the one whose id is the pid; V8's
  // platform workers start next (ids pid+1…), then libuv's pool and worker threads.
  const tid = Number(k.split(' ')[0]);
  const name = tid === pid ? 'main' : `tid pid+${tid - pid} ${k.split(' ')[1]}`;
  byName.set(name, (byName.get(name) ?? 0) + dv);
}
const rows = [...byName];
rows.sort((a, b) => b[1] - a[1]);
for (const [k, v] of rows) if (v >= 0.01) console.log(`| ${k} | ${v.toFixed(2)} | ${((v / total) * 100).toFixed(1)} |`);

if (profDir !== undefined) {
  const files = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profDir, f));
  const { busyMs, stages } = stageShares(files);
  console.log(`\nprofiled busy ${(busyMs / 1000).toFixed(2)} s\n\n| stage | ms | % of busy |\n|---|---|---|`);
  for (const s of stages) console.log(`| ${s.stage} | ${s.ms} | ${s.percent.toFixed(1)} |`);
  // Self time by function, without blocked waits and start-up.
  const self = new Map<string, number>();
  let busy = 0;
  for (const file of files) {
    const p = JSON.parse(await readFile(file, 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < p.samples.length; i++) {
      const cf = byId.get(p.samples[i]!)!.callFrame;
      if (cf.functionName === '(idle)' || cf.functionName === 'atomicsWaitLoop') continue;
      if (/node:internal\/modules/.test(cf.url)) continue;
      const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
      const ms = (p.timeDeltas[i] ?? 0) / 1000;
      self.set(key, (self.get(key) ?? 0) + ms);
      busy += ms;
    }
  }
  console.log(`\n| self time (top 30, waits and module loading left out) | ms | % |\n|---|---|---|`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`| ${k} | ${v.toFixed(0)} | ${((v / busy) * 100).toFixed(1)} |`);
}
await rm(dir, { recursive: true, force: true });
