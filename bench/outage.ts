/**
 * Outage bench (issue 20): radosgw is stopped (SIGSTOP) while four clients send a backlog of
 * OTLP/protobuf trace requests (the seeded microservice load) to the daemon — run as its own
 * process, `memory_limit_mb = 64` — retrying every refusal; then radosgw runs again and the
 * backlog drains. Measured: peak RSS during the outage and the drain, how `process.memoryUsage()`
 * splits at the peak (a probe loaded into the daemon with `--import`), the drain's rate
 * (spans/s and MiB of requests/s) and its duration.
 *
 *   npx tsx bench/outage.ts [--mib 1024] [--snapshot]
 *
 * `--snapshot` writes a heap snapshot of the daemon (SIGUSR2) once its RSS passes 80 % of the
 * peak seen so far during the outage, into the bench's work directory.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { s3DaemonToml, startS3Server, type S3Server } from '../test/helpers/s3-server.js';
import { cpuSeconds, rssMb } from './harness/proc.js';
import { traceRequests } from './load/traces.js';

const SPANS = 512;
const CLIENTS = 4;
const LIMIT_MB = 64;

export interface OutageResult {
  readonly backlogMiB: number;
  readonly spans: number;
  readonly requests: number;
  readonly refusals: number;
  readonly acceptSeconds: number;
  readonly baselineRssMb: number;
  readonly peakRssOutageMb: number;
  readonly peakRssDrainMb: number;
  /** process.memoryUsage() at the highest RSS sample, MiB. */
  readonly atPeak: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  readonly drainSeconds: number;
  readonly drainSpansPerSecond: number;
  readonly drainMiBPerSecond: number;
  readonly drainCpuSeconds: number;
  readonly files: number;
  readonly loadAverage: readonly number[];
  readonly env: string;
}

const MIB = 1048576;

async function procStat(pid: number): Promise<{ rssMb: number; cpu: number } | null> {
  try {
    return { rssMb: await rssMb(pid), cpu: await cpuSeconds(pid) };
  } catch {
    return null; // gone
  }
}

export async function benchOutage(options: { mib: number; snapshot?: boolean; env?: Record<string, string>; s3?: S3Server }): Promise<OutageResult> {
  const work = await mkdtemp(join(tmpdir(), 's3pq-outage-bench-'));
  const s3 = options.s3 ?? (await startS3Server());
  const probe = join(work, 'memory.jsonl');
  const bucket = `outage-bench-${Date.now()}`;
  const config = join(work, 'outage.toml');
  await writeFile(
    config,
    `[receivers.grpc]
endpoint = "127.0.0.1:0"
[receivers.http]
endpoint = "127.0.0.1:0"
[query]
enabled = false
[telemetry]
enabled = false
${s3DaemonToml(s3, bucket)}[operations]
retry_attempts = 1
timeout_seconds = 2
[buffer]
memory_limit_mb = ${LIMIT_MB}
[wal]
dir = "${join(work, 'wal')}"
fsync = "never"
max_size_mb = ${Math.ceil(options.mib * 1.3) + 64}
[partitioning]
max_past_hours = 0
[compaction]
enabled = false
`,
  );
  const child = spawn(process.execPath, ['--import', './bench/outage/memory-probe.mjs', '--heapsnapshot-signal=SIGUSR2', 'dist/cli.js', 'serve', '--config', config], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env, S3PQ_MEMORY_PROBE: probe, LOG_LEVEL: 'info' },
  });
  let port = 0;
  let flushedRows = 0;
  let files = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      let e: { msg?: string; transport?: string; port?: number; rows?: number; files?: number };
      try {
        e = JSON.parse(l) as typeof e;
      } catch {
        return;
      }
      if (e.msg === 'receiver listening' && e.transport === 'http') port = e.port!;
      if (e.msg === 'flushed') {
        flushedRows += e.rows ?? 0;
        files += e.files ?? 0;
      }
      if (e.msg === 'daemon started') resolve();
    });
  });
  const pid = child.pid!;
  const baseline = (await procStat(pid))!.rssMb;
  let phase: 'outage' | 'drain' = 'outage';
  const peak = { outage: 0, drain: 0 };
  let snapped = false;
  const sampler = setInterval(() => {
    void procStat(pid).then((s) => {
      if (!s) return;
      peak[phase] = Math.max(peak[phase], s.rssMb);
    });
  }, 50);
  const payloads = traceRequests(7, 64, SPANS);
  const target = options.mib * MIB;
  let sent = 0;
  let requests = 0;
  let refusals = 0;
  const t0 = performance.now();
  try {
    s3.pause();
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (sent < target) {
          const body = payloads[next++ % payloads.length]!;
          for (;;) {
            const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body }).catch(() => null);
            await res?.arrayBuffer();
            if (res?.status === 200) break;
            if (res && res.status !== 503 && res.status !== 429) throw new Error(`unexpected status ${res.status}`);
            refusals++;
            await new Promise((r) => setTimeout(r, 50));
          }
          sent += body.length;
          requests++;
          if (options.snapshot && !snapped && requests > 200 && peak.outage > baseline + 0.8 * (peak.outage - baseline) && sent > target / 2) {
            snapped = true;
            child.kill('SIGUSR2');
          }
        }
      }),
    );
    const acceptSeconds = (performance.now() - t0) / 1000;
    const spans = requests * SPANS;
    phase = 'drain';
    const cpu0 = (await procStat(pid))!.cpu;
    const d0 = performance.now();
    s3.resume();
    const deadline = Date.now() + 6 * 3600_000;
    while (flushedRows < spans && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const drainSeconds = (performance.now() - d0) / 1000;
    const cpu1 = (await procStat(pid))!.cpu;
    clearInterval(sampler);
    const lines = (await readFile(probe, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as OutageResult['atPeak']);
    const top = lines.reduce((a, b) => (b.rss > a.rss ? b : a));
    const mb = (n: number) => Math.round(n / MIB);
    return {
      backlogMiB: Math.round(sent / MIB),
      spans,
      requests,
      refusals,
      acceptSeconds: Number(acceptSeconds.toFixed(1)),
      baselineRssMb: Math.round(baseline),
      peakRssOutageMb: Math.round(peak.outage),
      peakRssDrainMb: Math.round(peak.drain),
      atPeak: { rss: mb(top.rss), heapUsed: mb(top.heapUsed), heapTotal: mb(top.heapTotal), external: mb(top.external), arrayBuffers: mb(top.arrayBuffers) },
      drainSeconds: Number(drainSeconds.toFixed(1)),
      drainSpansPerSecond: Math.round(spans / drainSeconds),
      drainMiBPerSecond: Number((sent / MIB / drainSeconds).toFixed(2)),
      drainCpuSeconds: Number((cpu1 - cpu0).toFixed(1)),
      files,
      loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
      env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`).join(' '),
    };
  } finally {
    clearInterval(sampler);
    s3.resume();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (options.snapshot) {
      const snaps = (await readdir(process.cwd())).filter((f) => f.endsWith('.heapsnapshot'));
      if (snaps.length > 0) console.error(`heap snapshots in ${process.cwd()}: ${snaps.join(', ')}`);
    }
    if (!options.s3) await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
}

export function outageMarkdown(r: OutageResult): string {
  return `## Outage backlog and drain (issue 20, bench/outage.ts)

radosgw stopped (SIGSTOP) while ${CLIENTS} clients sent **${r.backlogMiB} MiB** of OTLP/protobuf requests (${r.requests.toLocaleString('en')} requests, ${r.spans.toLocaleString('en')} spans, retrying ${r.refusals} refusals) to a daemon with \`memory_limit_mb = ${LIMIT_MB}\`; then radosgw ran again and the backlog drained (load average ${r.loadAverage.join(' / ')}${r.env ? `; ${r.env}` : ''}).

| accepted in | RSS idle | peak RSS outage | peak RSS drain | at the peak: heap used / total, external, arrayBuffers (MiB) | drain time | drain spans/s | drain MiB/s | drain CPU s | files |
|---|---|---|---|---|---|---|---|---|---|
| ${r.acceptSeconds} s | ${r.baselineRssMb} | ${r.peakRssOutageMb} (+${r.peakRssOutageMb - r.baselineRssMb}) | ${r.peakRssDrainMb} (+${r.peakRssDrainMb - r.baselineRssMb}) | ${r.atPeak.heapUsed} / ${r.atPeak.heapTotal}, ${r.atPeak.external}, ${r.atPeak.arrayBuffers} | ${r.drainSeconds} s | ${r.drainSpansPerSecond.toLocaleString('en')} | ${r.drainMiBPerSecond} | ${r.drainCpuSeconds} | ${r.files} |
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const env: Record<string, string> = {};
  for (const kv of (arg('--env') ?? '').split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    env[k!] = v!;
  }
  const result = await benchOutage({
    mib: Number(arg('--mib') ?? 1024),
    snapshot: process.argv.includes('--snapshot'),
    env,
  });
  console.log(JSON.stringify(result, null, 2));
}
