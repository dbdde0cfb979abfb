/**
 * The write-ahead log on a full disk: appends are refused retryably (WAL_FAILED, naming ENOSPC),
 * a torn append is cut back so nothing after it is hidden from replay, every acknowledged entry
 * replays, and appends succeed again by themselves once space returns.
 *
 * The disk is a real 1 MiB tmpfs when this process may mount one (root); otherwise the OS's
 * ENOSPC is injected into the file handle's gathered write (after half the bytes, as a real short write
 * leaves them) — a mock only for that error path.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { WriteAheadLog } from '../../src/wal/log.js';

let mountDir: string | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A 1 MiB tmpfs, or null when mounting is not allowed here. */
async function smallDisk(): Promise<string | null> {
  mountDir = await mkdtemp(join(tmpdir(), 's3pq-walfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountDir], { stdio: 'ignore' });
    const dir = mountDir;
    cleanup = async () => {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      await rmdir(dir);
    };
    return dir;
  } catch {
    const dir = mountDir;
    cleanup = () => rm(dir, { recursive: true, force: true });
    return null;
  }
}

type Writev = (buffers: Buffer[], position?: number) => Promise<{ bytesWritten: number }>;

describe('write-ahead log on a full disk', () => {
  it('refuses retryably, keeps every acknowledged entry replayable, and recovers when space returns', async () => {
    const mounted = await smallDisk();
    const dir = join(mountDir!, 'wal');
    const o = { dir, fsync: 'always' as const, fsyncIntervalMs: 100, maxBytes: 64 << 20, segmentBytes: 64 << 20, logger: createLogger('silent') };
    const { wal } = await WriteAheadLog.open(o);
    const body = Buffer.alloc(100 * 1024, 7);
    const acked: number[] = [];
    let filler: string | undefined;
    let restore: (() => void) | undefined;
    if (mounted !== null) {
      // Most of the disk taken by something else; the log fills the rest.
      filler = join(mounted, 'filler');
      await writeFile(filler, Buffer.alloc(600 * 1024));
    } else {
      // Injected: the handle's next writes put half their bytes down, then fail with ENOSPC.
      const probe = await open(join(dir, 'probe'), 'w');
      const proto = Object.getPrototypeOf(probe) as { writev: Writev };
      await probe.close();
      await unlink(join(dir, 'probe'));
      // The log writes a group's pieces with one gathered write (writev).
      const real = proto.writev;
      proto.writev = async function (this: unknown, buffers: Buffer[], position?: number) {
        const all = Buffer.concat(buffers);
        await real.call(this, [all.subarray(0, Math.floor(all.length / 2))], position);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      restore = () => (proto.writev = real);
    }
    let refusal: unknown;
    for (let i = 0; i < 20 && refusal === undefined; i++) {
      try {
        acked.push(await wal.appendData('traces', 'protobuf', BigInt(i), body));
      } catch (err) {
        refusal = err;
      }
    }
    expect(refusal).toMatchObject({ code: 'WAL_FAILED' });
    expect((refusal as Error).message).toMatch(/ENOSPC/);
    expect(wal.lastError?.code).toBe('ENOSPC');
    // Space returns: the next append succeeds without a restart.
    if (filler) await unlink(filler);
    restore?.();
    const after = await wal.appendData('traces', 'protobuf', 99n, body);
    expect(wal.lastError).toBeNull();
    await wal.abandon();
    // Replay: every acknowledged entry, the one after the failure too, and no damage reported.
    const { wal: again, recovered } = await WriteAheadLog.open(o);
    expect(recovered.problems).toEqual([]);
    expect(recovered.data.map((d) => d.seq)).toEqual([...acked, after]);
    for (const d of recovered.data) expect(Buffer.compare(Buffer.from((await again.readData(d.seq)).body), body)).toBe(0);
    await again.abandon();
  });
});
