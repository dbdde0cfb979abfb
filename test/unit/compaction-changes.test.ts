/**
 * Changes reads across compactions (src/log/write-log.ts): rows that only moved are not
 * delivered again; a read from before the inputs gets the outputs instead; chains; paging.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCompactionEntryKey } from '../../src/log/entry.js';
import type { LoggedFile } from '../../src/log/entry.js';
import { WriteLog } from '../../src/log/write-log.js';
import { LocalStore } from '../../src/store/local.js';

const T = Date.UTC(2024, 0, 1, 12);
let dir: string;
let store: LocalStore;
let now = T;

function file(name: string): LoggedFile {
  return { key: `traces/date=2024-01-01/hour=00/${name}.parquet`, rows: 10, bytes: 100, minTimeNs: 1n, maxTimeNs: 2n };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-cchanges-'));
  store = new LocalStore(dir);
  now = T;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function log(id: string): WriteLog {
  return new WriteLog({ store, instanceId: id, settleWindowMs: 1000, now: () => now });
}

/** Writes entries adding a and b, then a compaction replacing them with c (as the compactor does). */
async function compactAB(writer: WriteLog): Promise<{ a: string; b: string; k: string }> {
  const a = await writer.append('traces', [file('a')]);
  now += 10;
  const b = await writer.append('traces', [file('b')]);
  now += 10;
  const k = await writer.append('traces', [file('c')], { removed: [file('a').key, file('b').key], removedFrom: { [file('a').key]: a, [file('b').key]: b }, compaction: true });
  now += 10;
  return { a, b, k };
}

async function readAll(reader: WriteLog, cursor?: string, maxEntries = 1000): Promise<{ keys: string[]; cursor: string }> {
  const keys: string[] = [];
  for (;;) {
    const c = await reader.changes('traces', cursor, { maxEntries });
    keys.push(...c.files.map((f) => f.key.slice(f.key.lastIndexOf('/') + 1)));
    cursor = c.nextCursor;
    if (!c.more) return { keys, cursor };
  }
}

describe('changes across a compaction', () => {
  it('names compaction entries so a listing tells them apart', async () => {
    const { a, k } = await compactAB(log('w'));
    expect(isCompactionEntryKey(k)).toBe(true);
    expect(isCompactionEntryKey(a)).toBe(false);
  });

  it('a read from the beginning gets the merged file only, paged or not', async () => {
    await compactAB(log('w'));
    expect((await readAll(log('r'))).keys).toEqual(['c.parquet']);
    // One entry a read: the read that meets a replaced file extends to its compaction.
    expect((await readAll(log('r'), undefined, 1)).keys).toEqual(['c.parquet']);
  });

  it('a cursor that delivered the inputs gets no moved rows', async () => {
    const writer = log('w');
    await writer.append('traces', [file('a')]);
    now += 10;
    const b = await writer.append('traces', [file('b')]);
    now += 5000; // past the settle window: the cursor's watermark moves past both
    const first = await readAll(log('r'));
    expect(first.keys).toEqual(['a.parquet', 'b.parquet']);
    const entries = (await writer.listKeys('traces')).keys.map((x) => x.logKey);
    await writer.append('traces', [file('c')], { removed: [file('a').key, file('b').key], removedFrom: { [file('a').key]: entries[0]!, [file('b').key]: b }, compaction: true });
    now += 10;
    await writer.append('traces', [file('d')]);
    const next = await log('r').changes('traces', first.cursor);
    expect(next.files.map((f) => f.key.endsWith('d.parquet'))).toEqual([true]);
    expect(next.removed.length).toBe(2);
  });

  it('a cursor that delivered some inputs gets the rest as they are, not the merged file', async () => {
    const writer = log('w');
    const a = await writer.append('traces', [file('a')]);
    now += 5000;
    const first = await readAll(log('r'));
    expect(first.keys).toEqual(['a.parquet']);
    const b = await writer.append('traces', [file('b')]);
    now += 10;
    await writer.append('traces', [file('c')], { removed: [file('a').key, file('b').key], removedFrom: { [file('a').key]: a, [file('b').key]: b }, compaction: true });
    expect((await readAll(log('r'), first.cursor)).keys).toEqual(['b.parquet']);
  });

  it('chained compactions from the beginning: the last merge only', async () => {
    const writer = log('w');
    const { k } = await compactAB(writer);
    const late = await writer.append('traces', [file('late')]);
    now += 10;
    await writer.append('traces', [file('c2')], { removed: [file('c').key, file('late').key], removedFrom: { [file('c').key]: k, [file('late').key]: late }, compaction: true });
    expect((await readAll(log('r'))).keys).toEqual(['c2.parquet']);
    expect((await readAll(log('r'), undefined, 2)).keys).toEqual(['c2.parquet']);
  });

  it('the view applies the swap: inputs gone, output present', async () => {
    await compactAB(log('w'));
    const w = log('w2');
    await w.rebuild('traces'); // a checkpoint, so the view is complete
    const v = await w.view('traces');
    expect(v.complete && v.files.map((f) => f.key.slice(f.key.lastIndexOf('/') + 1))).toEqual(['c.parquet']);
  });

  it('a compaction entry sorts after the entries of its inputs even when their writer ran ahead', async () => {
    const ahead = new WriteLog({ store, instanceId: 'ahead', settleWindowMs: 1000, now: () => now + 60_000 });
    const a = await ahead.append('traces', [file('a')]);
    const { entryKeyTime } = await import('../../src/log/entry.js');
    const k = await log('w').append('traces', [file('c')], { removed: [file('a').key], removedFrom: { [file('a').key]: a }, compaction: true, notBeforeMs: entryKeyTime(a)! + 1 });
    expect(k > a.replace('ahead', 'w')).toBe(true);
    expect(entryKeyTime(k)!).toBeGreaterThan(entryKeyTime(a)!);
  });
});
