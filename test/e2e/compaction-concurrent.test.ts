/**
 * Compaction under load and crashes (local store): the daemon's background compactor and the
 * `compact` CLI run at once over a lake of small files in 48 closed hourly partitions while a
 * client queries the whole dataset in a loop; then kill -9 of a daemon and of the CLI mid-
 * compaction, and a restart: exact counts, no orphans, nothing left over.
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
import { CLI, runCli, startServe } from '../helpers/cli.js';
import { changesFromBeginning, countSpans, engineOver, localLeases, localParquetKeys, loggedKeys } from '../helpers/compaction.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { writeLake, type LakeShape } from '../helpers/lake.js';
import { waitFor } from '../helpers/wait.js';

// The lake: ~500 small files over 48 closed hourly partitions (fewer spans a file).
const SHAPE: LakeShape = { files: 480, partitions: 48, spansPerFile: 40, seed: 11 };

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

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-compact2-'));
    lake = join(dir, 'lake');
    spans = await writeLake(lake, SHAPE);
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
    const daemon = await startDaemon(parseConfigText(compactionToml(data, join(dir, 'wal-a'), 'delete_grace_seconds = 3\n')), { logger: createLogger('silent', sink) });
    const configPath = join(dir, 'a.toml');
    await writeFile(configPath, compactionToml(data, join(dir, 'wal-cli'), 'delete_grace_seconds = 3\n'));
    const cli = runCli(['compact', '--config', configPath]);
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
    const byCli = (r: string): number => r.match(/ files → 1, /g)?.length ?? 0;
    expect(byCli((await cli).stdout)).toBeLessThanOrEqual(SHAPE.partitions);
    // The consumer that had read everything before gets no moved rows.
    const after = await log.changes('traces', caughtUp);
    expect(after.files).toEqual([]);
    await store.close();
    await expectWholeAndClean(data, spans);
  }, 600_000);

  it('kill -9 of the daemon mid-compaction, then a restart: exact counts, no orphans', async () => {
    const data = join(dir, 'b');
    await cp(lake, data, { recursive: true });
    const configPath = join(dir, 'b.toml');
    await writeFile(configPath, compactionToml(data, join(dir, 'wal-b'), 'delete_grace_seconds = 0\n'));
    const first = await startServe(['--config', configPath]);
    // Kill once a lease records outputs (mid-upload or mid-swap of a partition).
    await waitFor(async () => (await localLeases(data)).some((l) => l.outputs.length > 0), 120_000, 'a compaction with outputs');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const second = await startServe(['--config', configPath]);
    try {
      await waitFor(async () => (await localParquetKeys(data)).length === SHAPE.partitions && (await localLeases(data)).length === 0, 300_000, 'every partition compacted after the restart');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    await expectWholeAndClean(data, spans);
  }, 600_000);

  it('kill -9 of the CLI mid-compaction, then the CLI again: exact counts, no orphans', async () => {
    const data = join(dir, 'c');
    await cp(lake, data, { recursive: true });
    const configPath = join(dir, 'c.toml');
    await writeFile(configPath, compactionToml(data, join(dir, 'wal-c'), 'delete_grace_seconds = 0\n'));
    const child = spawn(process.execPath, [CLI, 'compact', '--config', configPath], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    await waitFor(async () => (await localLeases(data)).some((l) => l.outputs.length > 0), 120_000, 'a compaction with outputs');
    child.kill('SIGKILL');
    expect((await exited)[0]).toBeNull();
    const leftBehind = (await localLeases(data)).length;
    expect(leftBehind).toBe(1);
    // The dead CLI's lease expires after lease_seconds; the next run recovers it and finishes.
    await waitFor(async () => {
      const r = await runCli(['compact', '--config', configPath]);
      if (r.code !== 0) throw new Error(r.stderr);
      return (await localParquetKeys(data)).length === SHAPE.partitions && (await localLeases(data)).length === 0;
    }, 120_000, 'the CLI to finish what the killed one left');
    await expectWholeAndClean(data, spans);
  }, 600_000);
});
