/** The write-ahead log directory lock on its own: who holds it, when a found lock is stale. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockWalDir } from '../../src/wal/lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const holder = (pid: number, host = hostname()) => JSON.stringify({ pid, instance: 'other', host, since: '2026-01-01T00:00:00.000Z', token: 'x' });

describe('write-ahead log lock', () => {
  it('writes pid, instance and host, refuses a second taker, and releases only its own lock', async () => {
    const lock = await lockWalDir(dir, { instanceId: 'me' });
    const written = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ pid: process.pid, instance: 'me', host: hostname() });
    await expect(lockWalDir(dir, { instanceId: 'again' })).rejects.toThrow(/locked by another daemon/);
    await lock.release();
    expect(await readdir(dir)).toEqual([]); // no temp files left behind either
  });

  it('takes over a lock whose process is gone (kill -9)', async () => {
    // A real process that has exited: its pid no longer runs.
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await once(child, 'exit');
    await writeFile(join(dir, LOCK_FILE), holder(pid));
    const lock = await lockWalDir(dir, { instanceId: 'me' });
    expect(lock.holder.pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock naming its own pid (a container restarted as pid 1 again)', async () => {
    await writeFile(join(dir, LOCK_FILE), holder(process.pid));
    const lock = await lockWalDir(dir, { instanceId: 'me' });
    await lock.release();
  });

  it('respects a live holder on this host, naming its pid and the fix', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(join(dir, LOCK_FILE), holder(child.pid!));
      await expect(lockWalDir(dir, { instanceId: 'me' })).rejects.toThrow(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is locked by another daemon \\(pid ${child.pid}, instance "other".*\\[wal\\] dir`));
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  it('another host: fresh locks hold, locks not refreshed within staleAfterMs are taken over', async () => {
    await writeFile(join(dir, LOCK_FILE), holder(12345, 'some-other-host'));
    await expect(lockWalDir(dir, { instanceId: 'me', staleAfterMs: 60_000 })).rejects.toThrow(/pid 12345.*host "some-other-host"/);
    const old = new Date(Date.now() - 120_000);
    await utimes(join(dir, LOCK_FILE), old, old);
    const lock = await lockWalDir(dir, { instanceId: 'me', staleAfterMs: 60_000 });
    await lock.release();
  });

  it('the holder refreshes its lock, and notices when it is taken away', async () => {
    const lost: string[] = [];
    const lock = await lockWalDir(dir, { instanceId: 'me', heartbeatMs: 20, onLost: (r) => lost.push(r) });
    const old = new Date(Date.now() - 120_000);
    await utimes(join(dir, LOCK_FILE), old, old);
    const deadline = Date.now() + 10_000;
    const { stat } = await import('node:fs/promises');
    while ((await stat(join(dir, LOCK_FILE))).mtimeMs < Date.now() - 60_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await stat(join(dir, LOCK_FILE))).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    // Replaced whole (rename), as a real taker does: writing in place would let the heartbeat
    // read a torn file in between.
    await writeFile(join(dir, 'thief.tmp'), holder(1, 'thief'));
    await rename(join(dir, 'thief.tmp'), join(dir, LOCK_FILE));
    while (lost.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(lost[0]).toMatch(/now names pid 1/);
    await lock.release();
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toContain('thief'); // not ours: left alone
  });
});
