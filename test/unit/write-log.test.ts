/**
 * The write log on its own: key naming, cursor encoding, the settle-window logic with writers
 * whose clocks differ, checkpoints (complete / incomplete), failed appends and rebuild.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3ParquetError } from '../../src/errors.js';
import { checkpointKey, decodeCursor, encodeCursor, entryKey, entryKeyTime, WriteLog, type LoggedFile } from '../../src/log/index.js';
import { LocalStore } from '../../src/store/local.js';
import type { ObjectStore } from '../../src/store/object-store.js';

const T = Date.UTC(2024, 0, 1, 12, 0, 0);
const SETTLE = 30_000;

let dir: string;
let store: LocalStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-wlog-'));
  store = new LocalStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileSeq = 0;
function file(name = `f${fileSeq++}`): LoggedFile {
  return { key: `logs/date=2024-01-01/hour=12/${name}.parquet`, rows: 1, bytes: 10, minTimeNs: 1n, maxTimeNs: 2n };
}

/** A clock the test moves; `skew` puts one writer behind the others. */
function clock(start = T): { now: () => number; at: (ms: number) => void } {
  let t = start;
  return { now: () => t, at: (ms) => void (t = ms) };
}

describe('write log keys and cursors', () => {
  it('names entries so that they sort by time, instance and sequence, and reads the time back', () => {
    const a = entryKey('logs', T, 'host-abc', 2);
    const b = entryKey('logs', T + 1, 'host-abc', 1);
    const c = entryKey('logs', T + 1, 'host-abd', 0);
    expect(a).toBe('_log/logs/20240101T120000.000Z-host-abc-00000002.json');
    expect([c, b, a].sort()).toEqual([a, b, c]);
    expect(entryKeyTime(b)).toBe(T + 1);
    expect(entryKeyTime('_log/logs/garbage.json')).toBeNull();
  });

  it('round-trips a cursor and refuses damaged or foreign ones with INVALID_ARGUMENT', () => {
    const c = { dataset: 'logs', watermarkMs: T, consumed: ['AAAAAAAAAAAA', 'abc-_0123456'] };
    const text = encodeCursor(c);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text, 'logs')).toEqual(c);
    const bad = (s: string, dataset?: string): string => {
      try {
        decodeCursor(s, dataset);
      } catch (err) {
        expect(err).toBeInstanceOf(S3ParquetError);
        expect((err as S3ParquetError).code).toBe('INVALID_ARGUMENT');
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('not a cursor!')).toMatch(/invalid cursor: not a cursor returned by this API/);
    expect(bad(Buffer.from('{"v":9}').toString('base64url'))).toMatch(/unknown cursor version 9/);
    expect(bad(text, 'traces')).toMatch(/belongs to dataset "logs", not "traces"/);
    expect(bad(encodeCursor({ ...c, consumed: ['short'] }))).toMatch(/consumed set is malformed/);
    expect(bad('A'.repeat(20_000))).toMatch(/longer than/);
  });
});

describe('incremental reads across writers whose clocks differ', () => {
  it('delivers every entry exactly once, including one named by a writer 20 s behind', async () => {
    const real = clock();
    const a = new WriteLog({ store, instanceId: 'a', now: real.now, settleWindowMs: SETTLE });
    const b = new WriteLog({ store, instanceId: 'b', now: () => real.now() - 20_000, settleWindowMs: SETTLE });
    const reader = new WriteLog({ store, instanceId: 'reader', now: real.now, settleWindowMs: SETTLE });
    const seen: string[] = [];
    let cursor: string | undefined;
    const read = async (): Promise<string[]> => {
      const c = await reader.changes('logs', cursor);
      cursor = c.nextCursor;
      const keys = c.files.map((f) => f.key);
      seen.push(...keys);
      return keys;
    };
    const f1 = file();
    await a.append('logs', [f1]);
    expect(await read()).toEqual([f1.key]);
    real.at(T + 5_000);
    // b's entry is named 20 s before the real time: before the reader's last read.
    const f2 = file();
    const f3 = file();
    await b.append('logs', [f2]);
    await a.append('logs', [f3]);
    expect((await read()).sort()).toEqual([f2.key, f3.key].sort());
    expect(await read()).toEqual([]);
    for (let i = 1; i <= 10; i++) {
      real.at(T + 5_000 + i * 7_000);
      const fa = file();
      const fb = file();
      await b.append('logs', [fb]);
      await a.append('logs', [fa]);
      await read();
    }
    real.at(T + 200_000);
    await read();
    expect(seen).toHaveLength(3 + 20);
    expect(new Set(seen).size).toBe(seen.length);
    // The cursor holds only the settle window's entries, not the whole history.
    expect(decodeCursor(cursor!).consumed.length).toBeLessThan(5);
  });

  it('skips an entry named further back than the settle window (the documented limit)', async () => {
    const real = clock();
    const a = new WriteLog({ store, instanceId: 'a', now: real.now, settleWindowMs: SETTLE });
    const late = new WriteLog({ store, instanceId: 'late', now: () => real.now() - 2 * SETTLE, settleWindowMs: SETTLE });
    const reader = new WriteLog({ store, instanceId: 'r', now: real.now, settleWindowMs: SETTLE });
    await a.append('logs', [file()]);
    const first = await reader.changes('logs');
    await late.append('logs', [file('too-late')]);
    const second = await reader.changes('logs', first.nextCursor);
    expect(second.files).toEqual([]);
  });

  it('pages with maxEntries without losing or repeating entries', async () => {
    const real = clock();
    const a = new WriteLog({ store, instanceId: 'a', now: real.now, settleWindowMs: SETTLE });
    const files: string[] = [];
    for (let i = 0; i < 7; i++) {
      real.at(T + i * 60_000); // spread beyond the settle window, so the watermark must wait
      const f = file();
      files.push(f.key);
      await a.append('logs', [f]);
    }
    const reader = new WriteLog({ store, instanceId: 'r', now: real.now, settleWindowMs: SETTLE });
    const got: string[] = [];
    let cursor: string | undefined;
    let reads = 0;
    for (;;) {
      const c = await reader.changes('logs', cursor, { maxEntries: 3 });
      got.push(...c.files.map((f) => f.key));
      cursor = c.nextCursor;
      reads++;
      if (!c.more) break;
    }
    expect(reads).toBe(3);
    expect(got).toEqual(files);
    expect(await reader.endCursor('logs')).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await reader.changes('logs', await reader.endCursor('logs'))).files).toEqual([]);
  });
});

describe('checkpoints, failures and rebuild', () => {
  it('is complete only with a checkpoint: initialize on an empty dataset, then appends', async () => {
    const log = new WriteLog({ store, instanceId: 'a', now: () => T, settleWindowMs: SETTLE });
    expect((await log.view('logs')).complete).toBe(false);
    expect(await log.initialize('logs')).toBe('created');
    const f = file();
    await log.append('logs', [f]);
    const view = await log.view('logs');
    expect(view.complete && view.files.map((x) => x.key)).toEqual([f.key]);
    expect(await log.initialize('logs')).toBe('complete');
  });

  it('a dataset with files but no checkpoint stays incomplete at startup', async () => {
    await store.put('logs/date=2024-01-01/hour=12/x.parquet', new Uint8Array([1]));
    const log = new WriteLog({ store, instanceId: 'a', now: () => T });
    expect(await log.initialize('logs')).toBe('incomplete');
    expect((await log.view('logs')).complete).toBe(false);
  });

  it('a damaged entry makes the view incomplete; rebuild records its file again and removes it', async () => {
    const log = new WriteLog({ store, instanceId: 'a', now: () => T, settleWindowMs: SETTLE });
    await log.initialize('logs');
    const f = file('a');
    await store.put(f.key, new Uint8Array([1, 2, 3])); // not Parquet: rebuild cannot describe it
    const key = await log.append('logs', [f]);
    await writeFile(join(dir, key), '{"v":1, "files": [tru');
    const fresh = new WriteLog({ store, instanceId: 'b', now: () => T + 1000, settleWindowMs: SETTLE });
    const view = await fresh.view('logs');
    expect(view.complete).toBe(false);
    expect(!view.complete && view.reason).toMatch(/is damaged/);
    const changes = await fresh.changes('logs');
    expect(changes.damaged).toEqual([key]);
    const r = await fresh.rebuild('logs');
    expect(r).toMatchObject({ files: 1, recorded: 1, entriesWritten: 1, damagedRemoved: 1 });
    const after = await fresh.view('logs');
    expect(after.complete && after.files.map((x) => [x.key, x.minTimeNs < 0n])).toEqual([[f.key, true]]);
    // A consumer that was past the damaged entry gets the file through the rebuild's entry.
    const again = await fresh.changes('logs', changes.nextCursor);
    expect(again.files.map((x) => x.key)).toEqual([f.key]);
  });

  it('a failed append drops the checkpoint (queries list), keeps the entry and retries it', async () => {
    let failing = true;
    const flaky: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      put: (key: string, body: Uint8Array) => (failing && key.startsWith('_log/logs/') ? Promise.reject(new Error('store down')) : store.put(key, body)),
    });
    const failures: string[] = [];
    const log = new WriteLog({ store: flaky, instanceId: 'a', now: () => T, onAppendFailed: (_e, d) => failures.push(d) });
    await log.initialize('logs');
    expect(await store.head(checkpointKey('logs'))).not.toBeNull();
    expect(await log.record('logs', [file()])).toBe(false);
    expect(failures).toEqual(['logs']);
    expect(log.pendingEntries).toBe(1);
    await log.settle(); // the checkpoint is dropped in the background
    expect(await store.head(checkpointKey('logs'))).toBeNull();
    expect((await log.view('logs')).complete).toBe(false);
    failing = false;
    // Concurrent flushes retry the kept entry once, not once each.
    const results = await Promise.all([log.record('logs', [file()]), log.record('logs', [file()]), log.record('logs', [file()])]);
    expect(results).toEqual([true, true, true]);
    expect(log.pendingEntries).toBe(0);
    const got = (await log.changes('logs')).files.map((f) => f.key);
    expect(got).toHaveLength(4);
    expect(new Set(got).size).toBe(4);
  });

  it('compacts: a view past the threshold folds its entries into a new checkpoint, late entries still count', async () => {
    const real = clock();
    const log = new WriteLog({ store, instanceId: 'a', now: real.now, settleWindowMs: SETTLE, compactAfterEntries: 3 });
    const behind = new WriteLog({ store, instanceId: 'b', now: () => real.now() - 20_000, settleWindowMs: SETTLE });
    await log.initialize('logs');
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) {
      real.at(T + i * 1000);
      const f = file();
      keys.push(f.key);
      await log.append('logs', [f]);
    }
    real.at(T + 120_000);
    const first = await log.view('logs');
    expect(first.complete && first.entries).toBe(5);
    const cp = await log.checkpoint('logs');
    expect(cp!.throughMs).toBe(T + 120_000 - SETTLE);
    const late = file();
    await behind.append('logs', [late]); // named 20 s back: after the new checkpoint's time
    const second = await log.view('logs');
    expect(second.complete && second.entries).toBe(1);
    expect(second.complete && second.files.map((f) => f.key).sort()).toEqual([...keys, late.key].sort());
  });
});
