/**
 * Issue 19, garbage on the receive path: a data entry goes to the disk as two pieces (its
 * headers, then the request bytes themselves) instead of being copied into one frame and again
 * into the group commit's write. The bytes on disk must stay those of the one-buffer encoding,
 * and a short gathered write (the kernel may write less than asked; a mock, since no disk does
 * it on demand) must continue where it stopped, in the middle of a piece.
 */
import { crc32 } from 'node:zlib';
import { mkdtemp, open as openFile, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { decodeEntry, encodeEntry, encodeEntryParts, type DataEntry } from '../../src/wal/format.js';
import { WriteAheadLog } from '../../src/wal/log.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The frame as the format's head comment describes it, built by hand: `u32 length | u32 crc32 | body`. */
function reference(e: DataEntry, placementJson?: Buffer): Buffer {
  const head = Buffer.alloc(placementJson ? 23 : 19);
  head.writeUInt8(placementJson ? 4 : 1, 0);
  head.writeBigUInt64LE(BigInt(e.seq), 1);
  head.writeBigInt64LE(e.receivedNs, 9);
  head.writeUInt8(['traces', 'logs', 'metrics'].indexOf(e.signal), 17);
  head.writeUInt8(['protobuf', 'json'].indexOf(e.format), 18);
  if (placementJson) head.writeUInt32LE(placementJson.length, 19);
  const body = Buffer.concat([head, ...(placementJson ? [placementJson] : []), e.body]);
  const frame = Buffer.alloc(8);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([frame, body]);
}

describe('write-ahead log entries in pieces', () => {
  it('writes the same bytes as one frame, without copying the request', () => {
    // A request that is a view into a larger buffer (as a socket chunk or a gRPC message can be).
    const backing = new Uint8Array(5000).map((_, i) => (i * 7) & 255);
    const body = backing.subarray(100, 4100);
    const e: DataEntry = { type: 'data', seq: 77, receivedNs: 1_700_000_000_123_456_789n, signal: 'logs', format: 'json', body };
    const parts = encodeEntryParts(e);
    expect(parts).toHaveLength(2);
    // The request piece is the caller's bytes, not a copy.
    expect(parts[1]!.buffer).toBe(backing.buffer);
    expect(parts[1]!.byteOffset).toBe(100);
    const joined = Buffer.concat(parts);
    expect(joined.equals(reference(e))).toBe(true);
    expect(encodeEntry(e).equals(joined)).toBe(true);
    const back = decodeEntry(joined, 0);
    expect(back && 'entry' in back && back.entry.type === 'data' ? Buffer.from(back.entry.body).equals(Buffer.from(body)) : false).toBe(true);
  });

  it('keeps the placement between the headers and the request, under one checksum', () => {
    const e: DataEntry = {
      type: 'data', seq: 3, receivedNs: 5n, signal: 'traces', format: 'protobuf', body: Buffer.from('request bytes'),
      placement: { placing: 'fp', groups: [{ partition: 'p=1', rows: 2, bytes: 30, minTime: 1n, maxTime: 2n }] },
    };
    const joined = Buffer.concat(encodeEntryParts(e));
    const back = decodeEntry(joined, 0);
    if (!back || !('entry' in back) || back.entry.type !== 'data') throw new Error(`not decoded: ${JSON.stringify(back)}`);
    expect(back.entry.placement).toEqual(e.placement);
    expect(Buffer.from(back.entry.body).toString()).toBe('request bytes');
    const placementLength = joined.readUInt32LE(8 + 19);
    expect(joined.equals(reference(e, joined.subarray(8 + 23, 8 + 23 + placementLength)))).toBe(true);
    // One flipped request byte fails the checksum that covers both pieces.
    joined[joined.length - 1]! ^= 1;
    expect(decodeEntry(joined, 0)).toEqual({ problem: 'checksum mismatch at offset 0' });
  });

  it('a group commit of thousands of pieces lands whole and in order', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-parts-'));
    const open = () => WriteAheadLog.open({ dir, fsync: 'never', fsyncIntervalMs: 100, maxBytes: 1 << 30, segmentBytes: 1 << 30, logger: createLogger('silent') });
    const { wal } = await open();
    // 3,000 appends queued at once: after the first write, ~6,000 pieces go in one group.
    const body = (i: number) => Buffer.from(`request ${i} ${'y'.repeat(i % 37)}`);
    const seqs = await Promise.all(Array.from({ length: 3000 }, (_, i) => wal.appendData('traces', 'protobuf', BigInt(i), body(i))));
    await wal.close();
    const [segment] = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
    const bytes = await readFile(join(dir, segment!));
    const expected = Buffer.concat(seqs.map((seq, i) => reference({ type: 'data', seq, receivedNs: BigInt(i), signal: 'traces', format: 'protobuf', body: body(i) })));
    expect(bytes.length).toBe(expected.length);
    expect(bytes.equals(expected)).toBe(true);
    const { wal: again, recovered } = await open();
    expect(recovered.problems).toEqual([]);
    expect(recovered.data.map((d) => d.seq)).toEqual(seqs);
    await again.close();
  });
});

type Writev = (buffers: Buffer[], position?: number) => Promise<{ bytesWritten: number }>;

describe('a short gathered write', () => {
  it('continues from the first byte not written, mid-piece, until the group is down', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-parts-'));
    const probe = await openFile(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { writev: Writev };
    await probe.close();
    await unlink(join(dir, 'probe'));
    const real = proto.writev;
    let calls = 0;
    // Every gathered write puts down only 1,000 bytes of what it was given (or less).
    proto.writev = async function (this: unknown, buffers: Buffer[], position?: number) {
      calls++;
      return real.call(this, [Buffer.concat(buffers).subarray(0, 1000)], position);
    };
    try {
      const { wal } = await WriteAheadLog.open({ dir, fsync: 'always', fsyncIntervalMs: 100, maxBytes: 1 << 30, segmentBytes: 1 << 30, logger: createLogger('silent') });
      const body = (i: number) => Buffer.alloc(1500 + i * 333, i + 1);
      const seqs = await Promise.all(Array.from({ length: 6 }, (_, i) => wal.appendData('logs', 'json', BigInt(i), body(i))));
      await wal.close();
      const [segment] = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
      const expected = Buffer.concat(seqs.map((seq, i) => reference({ type: 'data', seq, receivedNs: BigInt(i), signal: 'logs', format: 'json', body: body(i) })));
      expect((await readFile(join(dir, segment!))).equals(expected)).toBe(true);
      expect(calls).toBeGreaterThan(expected.length / 1000);
    } finally {
      proto.writev = real;
    }
  });
});
