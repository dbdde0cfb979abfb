/** The write-ahead log on its own: entries round-trip, group commit, torn tails, segment cleanup. */
import { mkdtemp, readdir, rm, stat, truncate, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { WriteAheadLog, type WalOptions } from '../../src/wal/log.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function openWal(extra: Partial<WalOptions> = {}) {
  return WriteAheadLog.open({ dir, fsync: 'always', fsyncIntervalMs: 100, maxBytes: 64 * 1024 * 1024, segmentBytes: 1024 * 1024, logger: createLogger('silent'), ...extra });
}

const body = (n: number) => Buffer.from(`request-${n}-${'x'.repeat(n % 50)}`);

describe('write-ahead log', () => {
  it('replays every appended request after a restart, with its signal, format and time', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-'));
    const { wal } = await openWal();
    // Concurrent appends share writes and fsyncs (group commit) and all resolve.
    const seqs = await Promise.all(Array.from({ length: 200 }, (_, i) => wal.appendData(i % 2 ? 'logs' : 'traces', i % 3 ? 'json' : 'protobuf', BigInt(i) * 1000n, body(i))));
    expect(new Set(seqs).size).toBe(200);
    // Simulate a crash: no close(), a second process opens the same directory.
    const { wal: again, recovered } = await openWal();
    expect(recovered.problems).toEqual([]);
    expect(recovered.data).toHaveLength(200);
    const bySeq = new Map(recovered.data.map((d) => [d.seq, d]));
    // The scan keeps where each entry is; its body is read back by seq.
    for (const [i, seq] of seqs.entries()) {
      const d = bySeq.get(seq)!;
      expect(Buffer.from((await again.readData(seq)).body).toString()).toBe(body(i).toString());
      expect([d.signal, d.format, d.receivedNs, d.bytes]).toEqual([i % 2 ? 'logs' : 'traces', i % 3 ? 'json' : 'protobuf', BigInt(i) * 1000n, body(i).length]);
    }
    // New sequence numbers continue after the recovered ones.
    expect(await again.appendData('metrics', 'json', 0n, body(1))).toBeGreaterThan(Math.max(...seqs));
    await again.close();
    await wal.abandon();
  });

  it('detects a torn last entry, reports it, and keeps every complete entry before it', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-'));
    const { wal } = await openWal();
    for (let i = 0; i < 10; i++) await wal.appendData('traces', 'json', 0n, body(i));
    const [segment] = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
    const path = join(dir, segment!);
    const size = (await stat(path)).size;
    await truncate(path, size - 7); // the tenth entry loses its last bytes
    const { wal: again, recovered } = await openWal();
    const bodies = await Promise.all(recovered.data.map(async (d) => Buffer.from((await again.readData(d.seq)).body).toString()));
    expect(bodies).toEqual(Array.from({ length: 9 }, (_, i) => body(i).toString()));
    expect(recovered.problems).toHaveLength(1);
    expect(recovered.problems[0]).toMatch(/truncated entry at offset \d+/);
    // Both logs closed without settling anything (a crash leaves no handle to the collector either).
    await again.abandon();
    await wal.abandon();
  });

  it('detects a corrupt entry by its checksum', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-'));
    const { wal } = await openWal();
    for (let i = 0; i < 3; i++) await wal.appendData('traces', 'json', 0n, body(i));
    const [segment] = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
    // A garbage entry with a valid length but a wrong CRC.
    const bad = Buffer.alloc(8 + 20);
    bad.writeUInt32LE(20, 0);
    bad.writeUInt32LE(12345, 4);
    await appendFile(join(dir, segment!), bad);
    const { wal: again, recovered } = await openWal();
    expect(recovered.data).toHaveLength(3);
    expect(recovered.problems[0]).toMatch(/checksum mismatch/);
    await again.abandon();
    await wal.abandon();
  });

  it('keeps entries until their flushes commit; uncommitted flushes leave their objects as orphans', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-'));
    const { wal } = await openWal({ segmentBytes: 200 });
    const a = await wal.appendData('traces', 'json', 0n, body(1));
    const b = await wal.appendData('traces', 'json', 0n, body(2));
    wal.track(a, 1);
    wal.track(b, 2); // b has rows in two partitions
    const f1 = await wal.intent('traces', 'p1', [a, b], ['traces/p1/f1.parquet']);
    await wal.commit([f1], [a, b]);
    await wal.intent('traces', 'p2', [b], ['traces/p2/f2.parquet']); // never committed
    const { wal: again, recovered } = await openWal();
    expect(recovered.committed).toEqual(new Set([`${a}|traces/p1`, `${b}|traces/p1`]));
    expect(recovered.orphanKeys).toEqual(['traces/p2/f2.parquet']);
    expect(recovered.data.map((d) => d.seq)).toEqual([a, b]);
    await again.abandon();
    await wal.abandon();
  });

  it('deletes segments once everything in them is stored, and refuses appends when full', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-'));
    const { wal } = await openWal({ segmentBytes: 100, maxBytes: 2000 });
    const seqs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const s = await wal.appendData('traces', 'json', 0n, body(40));
      wal.track(s, 1);
      seqs.push(s);
    }
    expect((await readdir(dir)).length).toBeGreaterThan(3);
    await expect(async () => {
      for (let i = 0; i < 50; i++) await wal.appendData('traces', 'json', 0n, body(40));
    }).rejects.toMatchObject({ code: 'WAL_FULL' });
    const f = await wal.intent('traces', 'p', seqs, ['k']);
    await wal.commit([f], seqs);
    // Everything up to the active segment is gone; what the failed appends wrote is not tracked.
    expect(wal.bytes).toBeLessThan(2000);
    await wal.close();
  });
});
