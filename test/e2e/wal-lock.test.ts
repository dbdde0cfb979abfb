/**
 * One write-ahead log per daemon (issue 22, item 1): a second daemon on the same log directory
 * exits at once, naming the directory, the holder's pid and the fix, and touches nothing — the
 * first daemon's acknowledged spans all survive its kill -9 and restart, each stored once. A
 * port conflict at start-up replays nothing and leaves the log as it was.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe } from '../helpers/cli.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { parquetFiles } from '../helpers/files.js';
import { T0_NS, hexId } from '../helpers/otlp.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-wal-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spans(name: string, n: number, seed: number): string {
  const list = Array.from({ length: n }, (_, i) => ({
    traceId: hexId(16, seed + i),
    spanId: hexId(8, seed + i),
    name,
    kind: 2,
    startTimeUnixNano: (T0_NS + BigInt(i)).toString(),
    endTimeUnixNano: (T0_NS + BigInt(i) + 5n).toString(),
  }));
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: list }] }] });
}

async function post(port: number | undefined, body: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res.status;
}

function configText(data: string, extra = ''): string {
  // A long max_age: nothing is flushed on its own, so the data lives only in the WAL until shutdown.
  return `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nenabled = false\n[telemetry]\nenabled = false\n[storage]\nlocal_path = "${data}"\n[buffer]\nmax_age_seconds = 3600\n[partitioning]\nmax_past_hours = 0\n${extra}`;
}

/** Every WAL file's name and content hash: "touching nothing" means this does not change. */
async function walSnapshot(walDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(walDir)).sort()) out[name] = createHash('sha256').update(await readFile(join(walDir, name))).digest('hex');
  return out;
}

describe('write-ahead log lock', () => {
  it('refuses a second daemon on the same log directory, and the first keeps every acknowledged span across kill -9', async () => {
    const data = join(dir, 'shared');
    const config = join(dir, 'shared.toml');
    await writeFile(config, configText(data));
    const first = await startServe(['--config', config]);
    try {
      expect(await post(first.ports.http, spans('before', 10, 1_000))).toBe(200);
      const walDir = join(data, '.wal');
      const before = await walSnapshot(walDir);

      const started = Date.now();
      const second = await runCli(['serve', '--config', config]);
      const elapsed = Date.now() - started;
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(walDir);
      expect(second.stderr).toContain(`pid ${first.child.pid}`);
      expect(second.stderr).toContain('[wal] dir');
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
      expect(elapsed).toBeLessThan(20_000); // exits at once (generous: node start-up on a loaded machine)
      // Nothing touched: the first daemon's log is byte for byte as it was, and nothing was stored.
      expect(await walSnapshot(walDir)).toEqual(before);
      expect(await parquetFiles(data)).toEqual([]);

      // The first daemon goes on acknowledging into the same log.
      expect(await post(first.ports.http, spans('after', 10, 2_000))).toBe(200);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }

    // Restart after the crash: the stale lock (dead pid) is taken over, the log replayed.
    const restarted = await startServe(['--config', config]);
    const replayed = restarted.lines.find((l) => l.msg === 'write-ahead log replayed');
    expect(replayed?.records).toBe(20);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
    const rows = await duckdbQuery(`SELECT name, count(*)::INT AS n, count(DISTINCT span_id)::INT AS d FROM read_parquet('${data}/traces/**/*.parquet') GROUP BY name ORDER BY name`);
    expect(rows).toEqual([
      { name: 'after', n: 10, d: 10 },
      { name: 'before', n: 10, d: 10 },
    ]);
    // A clean stop releases the lock.
    expect(await readdir(join(data, '.wal'))).not.toContain('LOCK');
  });

  it('a port conflict at start-up replays nothing and leaves the log as found', async () => {
    const data = join(dir, 'conflict');
    const config = join(dir, 'conflict.toml');
    await writeFile(config, configText(data));
    const first = await startServe(['--config', config]);
    expect(await post(first.ports.http, spans('pending', 10, 3_000))).toBe(200);
    first.child.kill('SIGKILL');
    await first.exited;
    const walDir = join(data, '.wal');
    const before = await walSnapshot(walDir);
    expect(Object.keys(before).some((n) => n.endsWith('.wal'))).toBe(true);

    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const conflictConfig = join(dir, 'conflict-port.toml');
      await writeFile(conflictConfig, configText(data).replace('[receivers.http]\nendpoint = "127.0.0.1:0"', `[receivers.http]\nendpoint = "127.0.0.1:${port}"`));
      const run = await runCli(['serve', '--config', conflictConfig]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/EADDRINUSE/);
      expect(run.stdout).not.toContain('write-ahead log replayed');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    // The stale LOCK of the killed daemon was taken over and released again; the segments are untouched.
    const after = await walSnapshot(walDir);
    const segments = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([n]) => n.endsWith('.wal')));
    expect(segments(after)).toEqual(segments(before));
    expect(await parquetFiles(data)).toEqual([]);

    // With the port free, the log is replayed and stored once.
    const restarted = await startServe(['--config', config]);
    expect(restarted.lines.find((l) => l.msg === 'write-ahead log replayed')?.records).toBe(10);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
    const rows = await duckdbQuery(`SELECT count(*)::INT AS n FROM read_parquet('${data}/traces/**/*.parquet')`);
    expect(rows).toEqual([{ n: 10 }]);
  });

  it('a distinct [wal] dir lets two daemons share one store', async () => {
    const data = join(dir, 'store');
    const a = join(dir, 'a.toml');
    const b = join(dir, 'b.toml');
    await writeFile(a, configText(data, `[wal]\ndir = "${join(dir, 'wal-a')}"\n`));
    await writeFile(b, configText(data, `[wal]\ndir = "${join(dir, 'wal-b')}"\n`));
    const first = await startServe(['--config', a]);
    const second = await startServe(['--config', b]);
    try {
      expect(await post(first.ports.http, spans('from-a', 5, 4_000))).toBe(200);
      expect(await post(second.ports.http, spans('from-b', 5, 5_000))).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      second.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);
    expect(await second.exited).toBe(0);
    const rows = await duckdbQuery(`SELECT name, count(*)::INT AS n FROM read_parquet('${data}/traces/**/*.parquet') GROUP BY name ORDER BY name`);
    expect(rows).toEqual([
      { name: 'from-a', n: 5 },
      { name: 'from-b', n: 5 },
    ]);
  });
});
