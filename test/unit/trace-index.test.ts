/**
 * The trace index format and its entries: an index round-trips through an entry and a
 * checkpoint; a malformed one reads as "no index" (never a damaged entry); entries that remove
 * files (version 2) take them out of the view, and `rebuild` does not bring a removed file back.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry } from '../../src/log/entry.js';
import { entryKey, WriteLog, type LoggedFile } from '../../src/log/index.js';
import { buildFileIndex, FileIndex } from '../../src/parquet/contract.js';
import { distinctValues } from '../../src/parquet/trace-index.js';
import { LocalStore } from '../../src/store/local.js';

const T = Date.UTC(2024, 0, 1, 12, 0, 0);
const id = (n: number) => n.toString(16).padStart(32, '0');
const key = (name: string) => `traces/date=2024-01-01/hour=12/${name}.parquet`;

function file(name: string, ids: number[] = []): LoggedFile {
  return { key: key(name), rows: ids.length, bytes: 10, minTimeNs: 1n, maxTimeNs: 2n, index: buildFileIndex('trace_id', ids.map(id)) };
}

let dir: string;
let store: LocalStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-tidx-'));
  store = new LocalStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trace index format', () => {
  it('is sized by distinct ids and admits every member, rarely a stranger', () => {
    const values = Array.from({ length: 4000 }, (_, i) => id(Math.floor(i / 8))); // 500 traces of 8 spans
    expect(distinctValues(values)).toHaveLength(500);
    const index = buildFileIndex('trace_id', values);
    const [, k, m] = index.encoded.split(':');
    expect(Number(k)).toBe(11);
    expect(Number(m)).toBe(500 * 16);
    for (let t = 0; t < 500; t++) expect(index.bloom!.mightContain(id(t))).toBe(true);
    let strangers = 0;
    for (let t = 1000; t < 21_000; t++) if (index.bloom!.mightContain(id(t))) strangers++;
    expect(strangers / 20_000).toBeLessThan(0.003);
  });

  it('round-trips through an entry; a malformed index reads as none, not as a damaged entry', () => {
    const logKey = entryKey('traces', T, 'w', 0);
    const entry = decodeEntry(logKey, 'traces', encodeEntry({ dataset: 'traces', instance: 'w', seq: 0, timeMs: T, files: [file('a', [1, 2, 3])] }));
    expect(entry.files[0]!.index!.column).toBe('trace_id');
    expect(entry.files[0]!.index!.bloom!.mightContain(id(2))).toBe(true);
    const json = JSON.parse(new TextDecoder().decode(encodeEntry({ dataset: 'traces', instance: 'w', seq: 0, timeMs: T, files: [file('a', [1])] }))) as { v: number; files: { index: unknown }[] };
    expect(json.v).toBe(1);
    for (const bad of [{ column: 'trace_id', bloom: 'v1:11:64:%%%' }, { column: '', bloom: 'v1:11:64:AAAAAAAAAAA=' }, 'text', null, { column: 'trace_id' }]) {
      json.files[0]!.index = bad;
      const decoded = decodeEntry(logKey, 'traces', new TextEncoder().encode(JSON.stringify(json)));
      expect(decoded.files[0]!.index).toBeUndefined();
      expect(decoded.files[0]!.key).toBe(key('a'));
    }
    expect(FileIndex.fromJson({ column: 'trace_id', bloom: 'v1:11:64:AAAAAAAAAAA=' })).not.toBeNull();
  });
});

describe('entries that remove files (version 2)', () => {
  it('are version 2 only when they remove; the view applies removals in log order', async () => {
    let t = T;
    const log = new WriteLog({ store, instanceId: 'w', now: () => t, settleWindowMs: 1000 });
    expect(await log.initialize('traces')).toBe('created');
    t += 5000;
    await log.append('traces', [file('a', [1]), file('b', [2])]);
    t += 1;
    const k = await log.append('traces', [file('ab', [1, 2])], { removed: [key('a'), key('b')] });
    expect((JSON.parse(await readFile(join(dir, k), 'utf8')) as { v: number }).v).toBe(2);
    const view = await new WriteLog({ store, instanceId: 'r', now: () => t }).view('traces');
    expect(view.complete).toBe(true);
    if (!view.complete) return;
    expect(view.files.map((f) => f.key)).toEqual([key('ab')]);
    expect(view.files[0]!.index!.bloom!.mightContain(id(1))).toBe(true);
    await expect(log.append('traces', [], { removed: ['logs/x.parquet'] })).rejects.toThrow(/is not a Parquet file of dataset traces/);
  });

  it('rebuild keeps removed files out even while they await deletion', async () => {
    let t = T;
    const log = new WriteLog({ store, instanceId: 'w', now: () => t, settleWindowMs: 1000, describeFile: async (k, size) => ({ key: k, rows: 0, bytes: size, minTimeNs: 0n, maxTimeNs: 0n }) });
    await mkdir(join(dir, 'traces/date=2024-01-01/hour=12'), { recursive: true });
    for (const n of ['a', 'b', 'ab']) await writeFile(join(dir, key(n)), 'x'.repeat(10));
    await log.append('traces', [file('a', [1]), file('b', [2])]);
    t += 1;
    await log.append('traces', [file('ab', [1, 2])], { removed: [key('a'), key('b')] });
    t += 5000;
    const r = await log.rebuild('traces');
    expect(r.files).toBe(3);
    expect(r.recorded).toBe(0);
    const cp = await log.checkpoint('traces');
    expect(cp!.files.map((f) => f.key)).toEqual([key('ab')]);
    expect(cp!.files[0]!.index).toBeDefined();
  });

  it('a reader that knows only version 1 would refuse a removing entry: "removed" in version 1 is damage', () => {
    const logKey = entryKey('traces', T, 'w', 0);
    const body = JSON.stringify({ v: 1, dataset: 'traces', instance: 'w', seq: 0, files: [], removed: [key('a')] });
    expect(() => decodeEntry(logKey, 'traces', new TextEncoder().encode(body))).toThrow(/"removed" needs version 2/);
  });
});
