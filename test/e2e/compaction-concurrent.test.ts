/**
 * Compaction under load and crashes (local store): the daemon's background compactor and the
 * `compact` CLI run at once over the lake — 500 small files in 48 closed hourly
 * partitions — while a client queries the whole dataset in a loop; then kill -9 of a daemon and
 * of the CLI at a named step (S3PQ_COMPACTION_PAUSE_AT, src/compaction/pause-point.ts), and a
 * restart: exact counts, no orphans, nothing left over. The crash tests use a smaller lake:
 * what they show is per partition.
 *
 * Where the time went (issue 15, ~11 min under load): the `compact` CLI did not fold the write
 * log into a checkpoint, so each of its views listed (and stat'ed) all 500 entries, several
 * times per partition; and three tests compacted the 500-file lake. Now ~25 s to write the
 * lake, ~15 s to compact it (daemon and CLI together), on a quiet machine.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { WriteLog } from '../../src/log/write-log.js';
import { LocalStore } from '../../src/store/local.js';
import { PAUSE_ENV } from '../../src/compaction/pause-point.js';
import { CLI, runCli, startServe } from '../helpers/cli.js';
import { changesFromBeginning, compactionEntries, countSpans, engineOver, localLeases, localParquetKeys, loggedKeys, waitForLine } from '../helpers/compaction.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { writeLake, type LakeShape } from '../helpers/lake.js';
import { waitFor } from '../helpers/wait.js';

// The lake: ~500 small files over 48 closed hourly partitions (fewer spans a file).
const SHAPE: LakeShape = { files: 500, partitions: 48, spansPerFile: 40, seed: 11 };
// The crash tests' lake: a few partitions of ten files.
const SMALL: LakeShape = { files: 60, partitions: 6, spansPerFile: 40, seed: 12 };

function compactionToml(data: string, wal: string, extra = ''): string {
  return `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nenabled = false\n[telemetry]\nenabled = false\n[storage]\nlocal_path = ${JSON.stringify(data)}\n[wal]\ndir = ${JSON.stringify(wal)}\n[partitioning]\nmax_past_hours = 0\n[write_log]\nsettle_window_seconds = 2\n[compaction]\ninterval_seconds = 1\nlease_seconds = 5\n${extra}`;
}

async function expectWholeAndClean(data: string, spans: number): Promise<void> {
  const store = new LocalStore(data);
  try {
    const log = new WriteLog({ store, instanceId: 'verify', settleWindowMs: 2000 });
    expect(await countSpans(engineOver(store, log))).toEqual({ rows: spans, distinct: spans });
    // No orphans: every file in the store is one the log names, and no lease is left.
    expect(await localParquetKeys(data)).toEqual(await loggedKeys(store));
    expect(await localLeases(data)).toEqual([]);
    const duck = await duckdbQuery(`select count(*) as n, count(distinct span_id) as d from ${datasetGlob(data, 'traces')}`);
    expect(duck).toEqual([{ n: String(spans), d: String(spans) }]);
    const fed = await changesFromBeginning(new WriteLog({ store, instanceId: 'feed', settleWindowMs: 2000 }));
    expect(fed.reduce((n, f) => n + f.rows, 0)).toBe(spans);
    expect(new Set(fed.map((f) => f.key)).size).toBe(fed.length);
  } finally {
    await store.close();
  }
}

describe('compaction: daemon + CLI at once, queries in a loop, kill -9', () => {
  let dir: string;
  let lake: string;
  let spans: number;
  let smallLake: string;
  let smallSpans: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-compact2-'));
    lake = join(dir, 'lake');
    spans = await writeLake(lake, SHAPE);
    smallLake = join(dir, 'small-lake');
    smallSpans = await writeLake(smallLake, SMALL);
  }, 600_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('daemon and CLI compact together while queries return every span exactly once', async () => {
    const data = join(dir, 'a');
    await cp(lake, data, { recursive: true });
    expect((await localParquetKeys(data)).length).toBe(SHAPE.files);
    const store = new LocalStore(data);
    const log = new WriteLog({ store, instanceId: 'client', settleWindowMs: 2000 });
    const engine = engineOver(store, log);
    const caughtUp = (await log.changes('traces')).nextCursor;

    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    // Grace 3 s: a query that listed the old files still finds them while it reads.
    const configPath = join(dir, 'a.toml');
    await writeFile(configPath, compactionToml(data, join(dir, 'wal-cli'), 'delete_grace_seconds = 3\n'));
    // The CLI first (its process takes a moment to start), the daemon's first round a second later.
    const cli = runCli(['compact', '--config', configPath]);
    const daemon = await startDaemon(parseConfigText(compactionToml(data, join(dir, 'wal-a'), 'delete_grace_seconds = 3\n')), { logger: createLogger('silent', sink) });
    let queries = 0;
    let done = false;
    const loop = (async () => {
      while (!done) {
        expect(await countSpans(engine)).toEqual({ rows: spans, distinct: spans });
        queries++;
      }
    })();
    try {
      const r = await cli;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // Until every partition holds one file and the replaced ones are deleted.
      await waitFor(async () => (await localParquetKeys(data)).length === SHAPE.partitions && (await localLeases(data)).length === 0, 300_000, 'every partition compacted');
      done = true;
      await loop;
    } finally {
      done = true;
      await loop.catch(() => undefined);
      await daemon.stop();
    }
    expect(queries).toBeGreaterThan(1);
    // Each partition was swapped once, by one of the two; both took part.
    const swaps = await compactionEntries(data);
    expect(swaps.length).toBe(SHAPE.partitions);
    const byCli = (await cli).stdout.match(/ files → 1, /g)?.length ?? 0;
    expect(swaps.filter((k) => k.includes('-compact-')).length).toBe(byCli);
    expect(byCli).toBeGreaterThan(0);
    expect(byCli).toBeLessThan(SHAPE.partitions);
    console.log(`500-file lake: ${queries} whole-dataset queries during compaction; CLI swapped ${byCli} partitions, the daemon ${SHAPE.partitions - byCli}`);
    // The consumer that had read everything before gets no moved rows.
    const after = await log.changes('traces', caughtUp);
    expect(after.files).toEqual([]);
    await store.close();
    await expectWholeAndClean(data, spans);
  }, 600_000);

  it('kill -9 of the daemon mid-upload, then a restart: exact counts, no orphans', async () => {
    const data = join(dir, 'b');
    await cp(smallLake, data, { recursive: true });
    const configPath = join(dir, 'b.toml');
    await writeFile(configPath, compactionToml(data, join(dir, 'wal-b'), 'delete_grace_seconds = 0\n'));
    const first = await startServe(['--config', configPath], { env: { [PAUSE_ENV]: 'upload' } });
    // Outputs uploaded and named in the lease, not swapped in: killed there.
    await waitForLine(first.child, /compaction paused at upload/);
    expect((await localLeases(data)).filter((l) => l.outputs.length > 0)).toHaveLength(1);
    expect((await localParquetKeys(data)).length).toBe(SMALL.files + 1);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const second = await startServe(['--config', configPath]);
    try {
      await waitFor(async () => (await localParquetKeys(data)).length === SMALL.partitions && (await localLeases(data)).length === 0, 300_000, 'every partition compacted after the restart');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    await expectWholeAndClean(data, smallSpans);
  }, 600_000);

  it('kill -9 of the CLI mid-swap, then the CLI again: exact counts, no orphans', async () => {
    const data = join(dir, 'c');
    await cp(smallLake, data, { recursive: true });
    const configPath = join(dir, 'c.toml');
    await writeFile(configPath, compactionToml(data, join(dir, 'wal-c'), 'delete_grace_seconds = 0\n'));
    const child = spawn(process.execPath, [CLI, 'compact', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, [PAUSE_ENV]: 'swap' } });
    const exited = once(child, 'exit');
    // The swap entry is written; the inputs are not queued for deletion, the lease is held.
    await waitForLine(child, /compaction paused at swap/);
    // Our readers already see only the merged file of that partition: every span once.
    const store = new LocalStore(data);
    expect(await countSpans(engineOver(store, new WriteLog({ store, instanceId: 'mid', settleWindowMs: 2000 })))).toEqual({ rows: smallSpans, distinct: smallSpans });
    await store.close();
    child.kill('SIGKILL');
    expect((await exited)[0]).toBeNull();
    const leftBehind = (await localLeases(data)).length;
    expect(leftBehind).toBe(1);
    // The dead CLI's lease expires after lease_seconds; the next run recovers it and finishes.
    let last = '';
    await waitFor(async () => {
      const r = await runCli(['compact', '--config', configPath]);
      if (r.code !== 0) throw new Error(r.stderr);
      last = `${r.stdout}; files ${(await localParquetKeys(data)).length}; leases ${JSON.stringify(await localLeases(data))}`;
      return (await localParquetKeys(data)).length === SMALL.partitions && (await localLeases(data)).length === 0;
    }, 300_000, 'the CLI to finish what the killed one left').catch((err: Error) => {
      throw new Error(`${err.message}; the last run: ${last}`);
    });
    await expectWholeAndClean(data, smallSpans);
  }, 600_000);
});
