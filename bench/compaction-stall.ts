/**
 * `npx tsx bench/compaction-stall.ts [files] [spansPerFile]`: how long compaction blocks the
 * event loop (which is what stalls a daemon's receivers), with its encoding on the calling thread
 * and on one worker (docs/compaction.md, "Encoding"). One hourly partition of small files is
 * compacted twice from the same copy; the event loop's delay is sampled every 10 ms meanwhile.
 * CPU is the process's (every thread), wall is the compaction's.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Compactor } from '../src/compaction/compactor.js';
import { parseConfigText } from '../src/config/index.js';
import { WriteLog } from '../src/log/write-log.js';
import { EncodePool } from '../src/pipeline/encode-pool.js';
import { LocalStore } from '../src/store/local.js';
import { writeLake } from '../test/helpers/lake.js';

export interface StallResult {
  readonly mode: 'main thread' | 'one worker';
  readonly files: number;
  readonly rows: number;
  readonly bytesIn: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  /** The longest the event loop was blocked, and its 99th percentile delay (ms). */
  readonly maxStallMs: number;
  readonly p99StallMs: number;
}

export async function benchCompactionStall(files = 20, spansPerFile = 5000): Promise<StallResult[]> {
  const root = await mkdtemp(join(tmpdir(), 's3pq-stall-'));
  try {
    const lake = join(root, 'lake');
    await writeLake(lake, { files, partitions: 1, spansPerFile, seed: 31 });
    const out: StallResult[] = [];
    for (const mode of ['main thread', 'one worker'] as const) {
      const data = join(root, mode.replace(' ', '-'));
      await cp(lake, data, { recursive: true });
      const config = parseConfigText(`[storage]\nlocal_path = ${JSON.stringify(data)}\n[compaction]\nmin_partition_age_seconds = 0\ndelete_grace_seconds = 0\n[partitioning]\nmax_past_hours = 0\n`);
      const store = new LocalStore(data);
      const encoder = mode === 'one worker' ? new EncodePool(1) : undefined;
      try {
        const writeLog = new WriteLog({ store, instanceId: 'stall', compactAfterEntries: config.write_log.compact_after_entries });
        const compactor = new Compactor({ store, writeLog, config, instanceId: 'stall', ...(encoder ? { encoder } : {}) });
        const h = monitorEventLoopDelay({ resolution: 10 });
        h.enable();
        const cpu = process.cpuUsage();
        const t = performance.now();
        const r = await compactor.runOnce({ datasets: ['traces'] });
        const wall = (performance.now() - t) / 1000;
        const used = process.cpuUsage(cpu);
        h.disable();
        const m = r.merged[0];
        if (!m || r.failed.length > 0) throw new Error(`compaction did not merge: ${JSON.stringify(r)}`);
        out.push({
          mode, files: m.filesIn, rows: m.rows, bytesIn: m.bytesIn, wallSeconds: +wall.toFixed(2), cpuSeconds: +((used.user + used.system) / 1e6).toFixed(2),
          maxStallMs: +(h.max / 1e6).toFixed(0), p99StallMs: +(h.percentile(99) / 1e6).toFixed(0),
        });
      } finally {
        await encoder?.close();
        await store.close();
      }
    }
    return out;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export function stallTable(rs: readonly StallResult[]): string {
  return `| compaction encodes on | files in | rows | MiB in | wall s | CPU s | longest event-loop stall ms | p99 event-loop delay ms |
|---|---|---|---|---|---|---|---|
${rs.map((r) => `| ${r.mode} | ${r.files} | ${r.rows.toLocaleString('en')} | ${(r.bytesIn / 2 ** 20).toFixed(1)} | ${r.wallSeconds} | ${r.cpuSeconds} | ${r.maxStallMs} | ${r.p99StallMs} |`).join('\n')}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(stallTable(await benchCompactionStall(Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 5000))));
}
