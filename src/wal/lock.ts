/**
 * One write-ahead log, one daemon. A second daemon on the same log directory would replay the
 * first one's records (storing them twice) and delete the segment it still appends to, so the
 * directory is locked before anything in it is read.
 *
 * Node has no portable flock(2), so the lock is a file, `LOCK`, holding the holder's pid,
 * instance id and host, created atomically with link(2) (fails with EEXIST, also over NFS).
 * A lock left by a crash (kill -9, power cut) is stale and taken over:
 * - same host: the holder's pid no longer runs (or is our own pid: a container restarted with
 *   the same pid 1 cannot be its own predecessor);
 * - another host (a shared volume): we cannot see its processes, so the holder refreshes the
 *   file's mtime every `heartbeatMs`; a lock not refreshed for `staleAfterMs` is stale.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { S3ParquetError } from '../errors.js';

export const LOCK_FILE = 'LOCK';

/** Locks this process holds: a lock naming our own pid is stale only when it is not one of them. */
const heldHere = new Set<string>();

export interface LockHolder {
  readonly pid: number;
  readonly instance: string;
  readonly host: string;
  readonly since: string;
  /** Random per acquisition: tells our lock from a successor's after a takeover. */
  readonly token: string;
}

export interface WalLockOptions {
  readonly instanceId: string;
  /** How often the holder refreshes the lock's mtime (default 10 s). */
  readonly heartbeatMs?: number;
  /** A lock from another host not refreshed for this long is stale (default 60 s). */
  readonly staleAfterMs?: number;
  /** Told when the lock file was removed or replaced behind our back. */
  readonly onLost?: (reason: string) => void;
}

export interface WalLock {
  readonly path: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, instance: String(parsed.instance ?? ''), host: parsed.host, since: String(parsed.since ?? ''), token: String(parsed.token ?? '') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A torn or foreign file: treat as unreadable, decided by its age below.
    return { pid: -1, instance: '', host: '?', since: '', token: '' };
  }
}

/** Why a found lock is stale, or undefined when its holder may still run. */
async function staleReason(path: string, holder: LockHolder, staleAfterMs: number): Promise<string | undefined> {
  if (holder.host === hostname() && holder.pid > 0) {
    if (holder.pid === process.pid) return heldHere.has(path) ? undefined : `it names our own pid ${holder.pid} (left by a previous run)`;
    if (!isAlive(holder.pid)) return `pid ${holder.pid} no longer runs`;
    return undefined;
  }
  const age = Date.now() - (await stat(path)).mtimeMs;
  return age > staleAfterMs ? `not refreshed for ${Math.round(age / 1000)} s` : undefined;
}

function lockedError(dir: string, holder: LockHolder): S3ParquetError {
  const who = holder.pid > 0 ? `pid ${holder.pid}${holder.instance ? `, instance "${holder.instance}"` : ''}, host "${holder.host}"${holder.since ? `, since ${holder.since}` : ''}` : 'a holder whose lock file cannot be read';
  return new S3ParquetError(
    'CONFIG_INVALID',
    `the write-ahead log directory ${dir} is locked by another daemon (${who}); ` +
      `give this daemon a write-ahead log of its own with [wal] dir = "<another directory>" — several daemons may share a store, never a write-ahead log`,
  );
}

/**
 * Takes the lock on `dir` (which must exist) or throws CONFIG_INVALID naming the directory,
 * the holder's pid and the fix. Touches nothing else in the directory.
 */
export async function lockWalDir(dir: string, options: WalLockOptions): Promise<WalLock> {
  const absolute = resolve(dir);
  const path = join(absolute, LOCK_FILE);
  const staleAfterMs = options.staleAfterMs ?? 60_000;
  const holder: LockHolder = { pid: process.pid, instance: options.instanceId, host: hostname(), since: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const temp = join(absolute, `${LOCK_FILE}.${process.pid}.${holder.token}`);
  await writeFile(temp, `${JSON.stringify(holder)}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const found = await readHolder(path);
      if (found === undefined && attempt < 10) continue; // removed between link and read: try again
      if (found === undefined) throw new S3ParquetError('CONFIG_INVALID', `cannot take the lock ${path}: it keeps appearing and vanishing`);
      const reason = attempt < 3 ? await staleReason(path, found, staleAfterMs).catch(() => undefined) : undefined;
      if (reason === undefined) throw lockedError(absolute, found);
      // Two starters may both find the same stale lock; the link above lets only one win the
      // next round, and the heartbeat below notices if ours was removed by the loser.
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  heldHere.add(path);

  let lost = false;
  const check = async (): Promise<void> => {
    const now = await readHolder(path);
    if (now?.token !== holder.token) {
      if (!lost) options.onLost?.(now ? `the lock file now names pid ${now.pid}` : 'the lock file was removed');
      lost = true;
      return;
    }
    const t = new Date();
    await utimes(path, t, t);
  };
  const timer = setInterval(() => void check().catch(() => undefined), options.heartbeatMs ?? 10_000);
  timer.unref();
  let released = false;
  return {
    path,
    holder,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      heldHere.delete(path);
      // Remove only our own lock: after a takeover the file belongs to someone else.
      if ((await readHolder(path))?.token === holder.token) await unlink(path).catch(() => undefined);
    },
  };
}
