/**
 * Ingest over OTLP/HTTP protobuf and OTLP/gRPC with N concurrent clients against the daemon
 * process: accepted records/s, daemon CPU seconds per million records, peak RSS, request
 * latency p50/p99, and stored bytes per record.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, startBenchDaemon } from './harness/daemon.js';
import { cpuSecondsByThread } from './harness/proc.js';

export interface IngestResult {
  transport: 'http-protobuf' | 'grpc';
  clients: number;
  /** The extra config the run had (empty: the defaults). */
  config: string;
  records: number;
  recordsPerSecond: number;
  cpuSecondsPerMillion: number;
  recordsPerCpuSecond: number;
  peakRssMb: number;
  p50Ms: number;
  p99Ms: number;
  storedBytesPerRecord: number;
  /**
   * CPU seconds from the first measured request until the last was accepted, by thread: the main
   * thread (receivers, decode, appends, flushes) and every other (V8's garbage-collector and
   * compiler helpers, libuv's pool, encode and query workers). A `--cpu-prof` profile sees only
   * JavaScript threads, so this is what tells how much of the CPU no stage table shows.
   */
  cpuUntilAccepted: { main: number; other: number };
  /** The flushes during the run (the shutdown's last), each with the CPU seconds since the first measured request at its end. */
  flushes: { rows: number; reason: string; cpu: number }[];
  dataDir: string;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.parquet')) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

function threadSplit(before: Record<string, number>, after: Record<string, number>): IngestResult['cpuUntilAccepted'] {
  const main = (after.main ?? 0) - (before.main ?? 0);
  let other = 0;
  // A thread that ended in between drops out of `after`: its CPU is lost to both sides alike.
  for (const [name, s] of Object.entries(after)) if (name !== 'main') other += s - (before[name] ?? 0);
  return { main: +main.toFixed(2), other: +other.toFixed(2) };
}

export async function benchIngest(
  transport: IngestResult['transport'],
  signalPath: '/v1/traces' | '/v1/logs' | '/v1/metrics',
  payloads: readonly Uint8Array[],
  recordsPerPayload: number,
  requests: number,
  clients: number,
  /** Extra `node` flags for the daemon (e.g. `--cpu-prof`). */
  nodeArgs: readonly string[] = [],
  /** Extra config tables and keys (TOML). */
  extraToml = '',
): Promise<IngestResult> {
  const dir = await mkdtemp(join(tmpdir(), 's3pq-bench-'));
  const d = await startBenchDaemon(dir, extraToml, `${dir}/data`, nodeArgs);
  const grpcPath = { '/v1/traces': '/opentelemetry.proto.collector.trace.v1.TraceService/Export', '/v1/logs': '/opentelemetry.proto.collector.logs.v1.LogsService/Export', '/v1/metrics': '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export' }[signalPath];
  const client = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
  const sendOne = async (body: Uint8Array): Promise<void> => {
    if (transport === 'grpc') {
      await new Promise<void>((resolve, reject) =>
        client.makeUnaryRequest(grpcPath, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, body, (err) => (err ? reject(err) : resolve())),
      );
      return;
    }
    const res = await fetch(`http://127.0.0.1:${d.ports.http}${signalPath}`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`status ${res.status}`);
  };
  // Warm-up with the last payloads; given `requests + 8` distinct payloads, no span id repeats.
  for (let i = Math.max(0, payloads.length - 8); i < payloads.length; i++) await sendOne(payloads[i]!);
  let peak = await d.rssMb();
  const sampler = setInterval(() => void d.rssMb().then((v) => (peak = Math.max(peak, v)), () => undefined), 50);
  const latencies: number[] = [];
  const threads0 = await cpuSecondsByThread(d.child.pid!);
  const cpu0 = await d.cpuSeconds();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests) {
        const body = payloads[next++ % payloads.length]!;
        const s = performance.now();
        await sendOne(body);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const threads1 = await cpuSecondsByThread(d.child.pid!);
  client.close();
  // Until every span is stored: the shutdown flush (sorting, encoding on the encode worker) counts.
  const cpu = (await d.stop()) - cpu0;
  const flushes = (await Promise.all(d.flushes)).map((f) => ({ ...f, cpu: +(f.cpu - cpu0).toFixed(2) }));
  clearInterval(sampler);
  const records = requests * recordsPerPayload;
  const warm = Math.min(8, payloads.length) * recordsPerPayload;
  latencies.sort((a, b) => a - b);
  return {
    transport,
    clients,
    config: extraToml.trim().replace(/\n/g, ' '),
    records,
    recordsPerSecond: Math.round(records / wall),
    cpuSecondsPerMillion: +((cpu / records) * 1e6).toFixed(2),
    recordsPerCpuSecond: Math.round(records / cpu),
    peakRssMb: Math.round(peak),
    p50Ms: +percentile(latencies, 50).toFixed(1),
    p99Ms: +percentile(latencies, 99).toFixed(1),
    storedBytesPerRecord: +((await dirBytes(join(dir, 'data'))) / (records + warm)).toFixed(1),
    cpuUntilAccepted: threadSplit(threads0, threads1),
    flushes,
    dataDir: join(dir, 'data'),
  };
}
