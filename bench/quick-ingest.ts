/**
 * Quick ingest measurement, for profiling: the daemon as a separate process, fed HTTP/protobuf
 * trace requests by C concurrent clients; reports accepted spans/s, spans per CPU-second (every
 * thread of the daemon, until it has stored every span and exited) and peak RSS.
 * `BENCH_PROF=DIR` runs the daemon with `--cpu-prof` into DIR; `BENCH_TOML` adds config keys
 * (e.g. `[parquet]\nencode_workers = 0`). The full harness is `npm run bench`.
 *
 *   npx tsx bench/quick-ingest.ts [requests=400] [spansPerRequest=512] [concurrency=4]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchDaemon } from './harness/daemon.js';
import { traceRequests } from './load/traces.js';

const [requests = 400, perRequest = 512, concurrency = 4] = process.argv.slice(2).map(Number);
const dir = await mkdtemp(join(tmpdir(), 's3pq-bench-'));
const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
// NODE_ARGS="--flag …": extra node flags for the daemon (before the script, as `node FLAGS dist/cli.js`).
const d = await startBenchDaemon(dir, process.env.BENCH_TOML ?? '', `${dir}/data`, [...(process.env.NODE_ARGS ?? '').split(' ').filter(Boolean), ...prof]);
// Every request distinct (ids never repeat: checked, 204,800 spans → 204,800 span ids); the
// 16 warm-up requests come after the measured ones.
const payloads = traceRequests(42, requests + 16, perRequest);
const url = `http://127.0.0.1:${d.ports.http}/v1/traces`;
let resets = 0;
const send = async (i: number): Promise<void> => {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: payloads[i % payloads.length]!, headers: { 'content-type': 'application/x-protobuf' } });
  } catch (err) {
    // A kept-alive connection the daemon closed as idle (its keep-alive timeout passes on a
    // loaded machine) resets before the request is read: send again, on a new connection.
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code !== 'ECONNRESET' || ++resets > 20) throw err;
    return send(i);
  }
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
};
for (let i = 0; i < 16; i++) await send(requests + i); // warm-up
let peak = await d.rssMb();
const sampler = setInterval(() => void d.rssMb().then((v) => (peak = Math.max(peak, v)), () => undefined), 50);
const split0 = await d.cpuSplit();
const cpu0 = split0.user + split0.system;
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < requests) await send(next++);
  }),
);
const wall = (performance.now() - t0) / 1000;
const split1 = await d.cpuSplit();
const cpuAccepted = split1.user + split1.system - cpu0;
const cpu = (await d.stop()) - cpu0; // includes the shutdown flush: every span stored
clearInterval(sampler);
const spans = requests * perRequest;
console.log(JSON.stringify({ requests, perRequest, concurrency, spans, wallSeconds: +wall.toFixed(2), spansPerSecond: Math.round(spans / wall), daemonCpuSeconds: +cpu.toFixed(2), spansPerCpuSecond: Math.round(spans / cpu), spansPerCpuSecondUntilAccepted: Math.round(spans / cpuAccepted), peakRssMb: Math.round(peak), resets, untilAccepted: { userSeconds: +(split1.user - split0.user).toFixed(2), systemSeconds: +(split1.system - split0.system).toFixed(2), minorFaults: split1.minorFaults - split0.minorFaults } }));
await rm(dir, { recursive: true, force: true });
