/** The daemon as a separate process for benchmarks: ports from its log, CPU and RSS from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuSeconds, cpuSplit, rssMb } from './proc.js';

export interface BenchDaemon {
  readonly child: ChildProcess;
  readonly ports: { http?: number; grpc?: number; query?: number };
  cpuSeconds(): Promise<number>;
  cpuSplit(): ReturnType<typeof cpuSplit>;
  rssMb(): Promise<number>;
  /**
   * Every flush the daemon logged, in order, with the process's CPU seconds read as its line
   * arrived (a steady-state window runs from one flush's end to a later one's: bench/steady.ts).
   */
  readonly flushes: Promise<{ rows: number; reason: string; cpu: number }>[];
  /**
   * SIGTERM (the daemon flushes every buffer), then the process's CPU seconds (every thread,
   * encode workers included) as last read from /proc before it exited, so a measurement can
   * run until every record is stored.
   */
  stop(): Promise<number>;
}


/**
 * `nodeArgs` go before the script, e.g. `--cpu-prof` to profile the daemon under load;
 * `queryToml` are extra keys of the `[query]` table (which this config already opens). The
 * seeded loads are dated 2024, so the event-time window is off (`max_past_hours = 0`).
 */
export async function startBenchDaemon(dir: string, extraToml = '', dataDir = `${dir}/data`, nodeArgs: readonly string[] = [], queryToml = ''): Promise<BenchDaemon> {
  const config = join(dir, 'bench.toml');
  await writeFile(
    config,
    `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\n${queryToml}\n[storage]\nlocal_path = "${dataDir}"\n${extraToml}\n[partitioning]\nmax_past_hours = 0\n[compaction]\nenabled = false\n`,
  );
  const child = spawn(process.execPath, [...nodeArgs, 'dist/cli.js', 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info' } });
  const ports: BenchDaemon['ports'] = {};
  const flushes: BenchDaemon['flushes'] = [];
  const pid = child.pid ?? 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      let e: { level?: number; msg?: string; transport?: 'http' | 'grpc' | 'query'; port?: number; rows?: number; reason?: string };
      try {
        e = JSON.parse(l) as typeof e;
      } catch {
        return;
      }
      if ((e.level ?? 0) >= 40) console.error(l); // warnings and errors: why a bench run went wrong
      // BENCH_LOG_FLUSHES=1: every flush with its duration, to line stalls up with flushes.
      else if (process.env.BENCH_LOG_FLUSHES === '1' && e.msg === 'flushed') console.error(`${new Date().toISOString()} ${l}`);
      if (e.msg === 'flushed' && pid > 0) {
        const { rows = 0, reason = '' } = e;
        flushes.push(cpuSeconds(pid).then((cpu) => ({ rows, reason, cpu }), () => ({ rows, reason, cpu: Number.NaN })));
      }
      if ((e.msg === 'receiver listening' || e.msg === 'query port listening') && e.transport) ports[e.transport] = e.port!;
      if (e.msg === 'daemon started') resolve();
    });
  });
  return {
    child,
    ports,
    flushes,
    cpuSeconds: () => cpuSeconds(pid),
    cpuSplit: () => cpuSplit(pid),
    rssMb: () => rssMb(pid),
    async stop() {
      const read = async (): Promise<number | undefined> => {
        try {
          return await cpuSeconds(pid);
        } catch {
          return undefined; // gone
        }
      };
      let last = (await read()) ?? 0;
      let exited = false;
      const exit = new Promise((r) => child.once('exit', r)).then(() => (exited = true));
      child.kill('SIGTERM');
      while (!exited) {
        const v = await read();
        if (v !== undefined) last = v;
        await Promise.race([exit, new Promise((r) => setTimeout(r, 10))]);
      }
      return last;
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
