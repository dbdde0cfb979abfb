/**
 * Outage bench (issue 20): radosgw is stopped (SIGSTOP) while four clients send a backlog of
 * OTLP/protobuf trace requests (the seeded microservice load) to the daemon — run as its own
 * process, `memory_limit_mb = 64` — retrying every refusal; then radosgw runs again and the
 * backlog drains. Measured: peak RSS during the outage and the drain, how `process.memoryUsage()`
 * splits at the peak (a probe loaded into the daemon with `--import`), the drain's rate
 * (spans/s and MiB of requests/s) and its duration.
 *
 *   npx tsx bench/outage.ts [--mib 1024] [--snapshot] [--env K=V,…] [--keep-probe memory.jsonl] [--encode-workers N]
 *
 * `--snapshot` writes a heap snapshot of the daemon (SIGUSR2) once its RSS passes 80 % of the
 * peak seen so far during the outage, into the bench's work directory.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
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
  readonly atPeak: PeakSplit;
  /** The largest parquet-wasm linear memory seen (it never shrinks), MiB. */
  readonly parquetWasmMaxMb: number | null;
  /** When the drain started (epoch ms), to find it in a kept probe file. */
  readonly drainStartMs: number;
  /** The drain's flushes: how many (by reason), when the first and the last full chunk came, file sizes. */
  readonly flushSummary: { count: number; byReason: Record<string, number>; firstAfterSeconds: number | null; lastChunkAfterSeconds: number | null; parquetMiBPerFile: number | null; rowsPerFile: number | null };
  /**
   * From resuming radosgw to the last flush of a full chunk: the backlog's drain. What is left
   * after it (the few requests that arrived in a fresh buffer while the backlog's was being
   * retried) waits for `max_age_seconds`, as any partly filled buffer does: `allStoredSeconds`.
   */
  readonly drainSeconds: number;
  readonly allStoredSeconds: number;
  readonly drainSpansPerSecond: number;
  readonly drainMiBPerSecond: number;
  readonly drainCpuSeconds: number;
  readonly files: number;
  readonly loadAverage: readonly number[];
  readonly env: string;
}

const MIB = 1048576;

/**
 * What holds the RSS at its highest sample (MiB): process.memoryUsage(), parquet-wasm's linear
 * memory, V8's code space, and resident memory from /proc/self/smaps by kind (wasm memories'
 * reservations, glibc's brk heap, other anonymous mappings, files) — see memory-probe.mjs.
 */
export interface PeakSplit {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  parquetWasm?: number;
  codeSpace?: number;
  wasmReserved?: number;
  brkHeap?: number;
  anon?: number;
  file?: number;
}

async function procStat(pid: number): Promise<{ rssMb: number; cpu: number } | null> {
  try {
    return { rssMb: await rssMb(pid), cpu: await cpuSeconds(pid) };
  } catch {
    return null; // gone
  }
}

export async function benchOutage(options: { mib: number; snapshot?: boolean; env?: Record<string, string>; s3?: S3Server; keepProbe?: string; encodeWorkers?: number }): Promise<OutageResult> {
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
${options.encodeWorkers !== undefined ? `[parquet]\nencode_workers = ${options.encodeWorkers}\n` : ''}`,
  );
  const child = spawn(process.execPath, ['--import', './bench/outage/memory-probe.mjs', '--heapsnapshot-signal=SIGUSR2', 'dist/cli.js', 'serve', '--config', config], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env, S3PQ_MEMORY_PROBE: probe, LOG_LEVEL: 'info' },
  });
  let port = 0;
  let flushedRows = 0;
  let files = 0;
  const flushes: { t: number; rows: number; files: number; bytes: number; reason: string; ms: number }[] = [];
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      let e: { msg?: string; transport?: string; port?: number; rows?: number; files?: number; bytes?: number; reason?: string; duration_ms?: number };
      try {
        e = JSON.parse(l) as typeof e;
      } catch {
        return;
      }
      if (e.msg === 'receiver listening' && e.transport === 'http') port = e.port!;
      if (e.msg === 'flushed') {
        flushedRows += e.rows ?? 0;
        files += e.files ?? 0;
        flushes.push({ t: Date.now(), rows: e.rows ?? 0, files: e.files ?? 0, bytes: e.bytes ?? 0, reason: e.reason ?? '', ms: e.duration_ms ?? 0 });
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
    const drainStartMs = Date.now();
    const cpu0 = (await procStat(pid))!.cpu;
    const d0 = performance.now();
    s3.resume();
    const deadline = Date.now() + 6 * 3600_000;
    while (flushedRows < spans && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const drainSeconds = (performance.now() - d0) / 1000;
    // The drain proper: until the last flush of a full chunk (what is left after it is a partly
    // filled buffer that waits for max_age_seconds, as any would).
    const drained = flushes.filter((f) => f.t >= drainStartMs);
    const lastFull = drained.filter((f) => f.reason !== 'age').at(-1) ?? drained.at(-1);
    const backlogSeconds = Math.max(0.1, lastFull ? (lastFull.t - drainStartMs) / 1000 : drainSeconds);
    const backlogRows = lastFull ? drained.filter((f) => f.t <= lastFull.t).reduce((n, f) => n + f.rows, 0) : spans;
    const flushSummary = {
      count: drained.length,
      byReason: Object.fromEntries([...new Set(drained.map((f) => f.reason))].map((r) => [r, drained.filter((f) => f.reason === r).length])),
      firstAfterSeconds: drained[0] ? Number(((drained[0].t - drainStartMs) / 1000).toFixed(1)) : null,
      lastChunkAfterSeconds: lastFull ? Number(((lastFull.t - drainStartMs) / 1000).toFixed(1)) : null,
      parquetMiBPerFile: drained.length > 0 ? Number((drained.reduce((n, f) => n + f.bytes, 0) / Math.max(1, drained.reduce((n, f) => n + f.files, 0)) / MIB).toFixed(2)) : null,
      rowsPerFile: drained.length > 0 ? Math.round(drained.reduce((n, f) => n + f.rows, 0) / Math.max(1, drained.reduce((n, f) => n + f.files, 0))) : null,
    };
    const cpu1 = (await procStat(pid))!.cpu;
    clearInterval(sampler);
    if (options.keepProbe) {
      await copyFile(probe, options.keepProbe);
      await writeFile(`${options.keepProbe}.flushes.json`, JSON.stringify(flushes));
    }
    const lines = (await readFile(probe, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as PeakSplit);
    const top = lines.reduce((a, b) => (b.rss > a.rss ? b : a));
    const mb = (n: number) => Math.round(n / MIB);
    const split = Object.fromEntries(Object.entries(top).filter(([k, v]) => k !== 't' && typeof v === 'number').map(([k, v]) => [k, mb(v as number)])) as unknown as PeakSplit;
    const wasmMax = lines.reduce((n, l) => Math.max(n, l.parquetWasm ?? 0), 0);
    return {
      backlogMiB: Math.round(sent / MIB),
      spans,
      requests,
      refusals,
      acceptSeconds: Number(acceptSeconds.toFixed(1)),
      baselineRssMb: Math.round(baseline),
      peakRssOutageMb: Math.round(peak.outage),
      peakRssDrainMb: Math.round(peak.drain),
      atPeak: split,
      parquetWasmMaxMb: wasmMax > 0 ? mb(wasmMax) : null,
      drainStartMs,
      flushSummary,
      drainSeconds: backlogSeconds,
      allStoredSeconds: Number(drainSeconds.toFixed(1)),
      drainSpansPerSecond: Math.round(backlogRows / backlogSeconds),
      drainMiBPerSecond: Number(((sent / MIB) * (backlogRows / spans) / backlogSeconds).toFixed(2)),
      drainCpuSeconds: Number((cpu1 - cpu0).toFixed(1)),
      files,
      loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
      env: [...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`), ...(options.encodeWorkers !== undefined ? [`encode_workers = ${options.encodeWorkers}`] : [])].join(' '),
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

| accepted in | RSS idle | peak RSS outage | peak RSS drain | at the peak: heap used / total, external, arrayBuffers (MiB) | drain time (all stored) | drain spans/s | drain MiB/s | drain CPU s | files |
|---|---|---|---|---|---|---|---|---|---|
| ${r.acceptSeconds} s | ${r.baselineRssMb} | ${r.peakRssOutageMb} (+${r.peakRssOutageMb - r.baselineRssMb}) | ${r.peakRssDrainMb} (+${r.peakRssDrainMb - r.baselineRssMb}) | ${r.atPeak.heapUsed} / ${r.atPeak.heapTotal}, ${r.atPeak.external}, ${r.atPeak.arrayBuffers} | ${r.drainSeconds} s (${r.allStoredSeconds} s) | ${r.drainSpansPerSecond.toLocaleString('en')} | ${r.drainMiBPerSecond} | ${r.drainCpuSeconds} | ${r.files} |
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
    ...(arg('--keep-probe') ? { keepProbe: arg('--keep-probe')! } : {}),
    ...(arg('--encode-workers') ? { encodeWorkers: Number(arg('--encode-workers')) } : {}),
  });
  console.log(JSON.stringify(result, null, 2));
}
