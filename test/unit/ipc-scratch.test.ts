/**
 * Issue 19, garbage on the flush side: the Arrow IPC stream handed to wasm is written into one
 * buffer reused between flushes instead of a fresh join per flush. Its bytes must be exactly
 * `tableToIPC`'s, for flushes of growing and shrinking sizes in any order (the buffer grows,
 * is reused through small streams, and is let go when no stream came for a while).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import { decodeRequest } from '../../src/otlp/decode.js';
import { ipcScratchBytes, ipcStreamScratch } from '../../src/parquet/ipc-scratch.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { KEPT_MEMORY_IDLE_MS } from '../../src/runtime/idle-release.js';
import { traceRequests } from '../../bench/load/traces.js';

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = ['http.response.status_code'].map(parsePromoted);

/** The bench's realistic trace requests (nested attributes, events, links), as the daemon's batches. */
function batches(requests: number, perRequest: number, seed: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (const p of traceRequests(seed, requests, perRequest)) for (const g of convertTraces(decodeRequest('traces', 'protobuf', p) as never, partitioner, promoted).groups) out.push(g.batch);
  return out;
}

describe('the IPC stream in a reused buffer', () => {
  // The idle release is a timer armed by the first stream: fake from the start, so the last test drives it.
  beforeAll(() => {
    vi.useFakeTimers();
    return () => vi.useRealTimers();
  });

  it('is byte for byte tableToIPC, for flushes of every size in turn', () => {
    const small = new Table(batches(1, 20, 1));
    const large = new Table(batches(8, 512, 2));
    const sorted = new Table([sortBatches(large.batches, ['service_name', 'trace_id'])]);
    const sliced = new Table(large.batches.map((b) => b.slice(7, 300)));
    const views: Uint8Array[] = [];
    for (const table of [small, large, sorted, sliced, large, small, large]) {
      const want = tableToIPC(table, 'stream');
      const got = ipcStreamScratch(table);
      expect(got.byteLength).toBe(want.byteLength);
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want))).toBe(true);
      views.push(got);
    }
    // Reused: every stream after the first large one is written where it was (the small
    // stream's buffer was outgrown; a stream over a quarter of the buffer keeps it).
    for (const i of [2, 3, 4, 5]) expect(views[i]!.buffer === views[1]!.buffer).toBe(true);
    expect(views[1]!.buffer === views[0]!.buffer).toBe(false);
    expect(large.numRows).toBe(4096);
    // Sized to the table's buffers up front: about the stream's size, not a doubling past it.
    expect(views[1]!.buffer.byteLength).toBeLessThan(views[1]!.byteLength * 1.1 + 128 * 1024);
  });

  it('grows when the stream outgrows its estimate (many small batches: message headers dominate)', () => {
    const one = batches(1, 20, 5)[0]!;
    const many = new Table(Array.from({ length: 3000 }, (_, i) => one.slice(i % 20, (i % 20) + 1)));
    const got = ipcStreamScratch(many);
    const want = tableToIPC(many, 'stream');
    expect(want.byteLength).toBeGreaterThan(2 << 20); // beyond the 1 MiB + slack it was sized to
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
  });

  it('keeps a large buffer through small streams, lets it go when no stream comes for a while, and grows again', () => {
    const large = new Table(batches(16, 512, 3));
    const tiny = new Table(batches(1, 4, 4));
    ipcStreamScratch(large); // whatever an earlier test left, the buffer now fits this stream
    const big = ipcStreamScratch(large);
    expect(big.byteLength).toBeGreaterThan(4 << 20);
    // Small streams in between do not drop it: the next large one is written where it was, not
    // into fresh memory (each first write to a fresh page is a page fault).
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(KEPT_MEMORY_IDLE_MS / 2); // flushes keep coming: each re-arms the release
      expect(ipcStreamScratch(tiny).buffer === big.buffer).toBe(true);
    }
    expect(ipcStreamScratch(large).buffer === big.buffer).toBe(true);
    expect(ipcScratchBytes()).toBe(big.buffer.byteLength);
    // No stream for KEPT_MEMORY_IDLE_MS: let go.
    vi.advanceTimersByTime(KEPT_MEMORY_IDLE_MS - 1);
    expect(ipcScratchBytes()).toBe(big.buffer.byteLength);
    vi.advanceTimersByTime(1);
    expect(ipcScratchBytes()).toBe(0);
    // The next tiny stream starts on a small buffer of its own…
    const after = ipcStreamScratch(tiny);
    expect(after.buffer === big.buffer).toBe(false);
    expect(after.buffer.byteLength).toBeLessThan(big.buffer.byteLength);
    expect(Buffer.from(after).equals(Buffer.from(tableToIPC(tiny, 'stream')))).toBe(true);
    // …and a large one grows it again, bytes still exactly tableToIPC's.
    expect(Buffer.from(ipcStreamScratch(large)).equals(Buffer.from(tableToIPC(large, 'stream')))).toBe(true);
  });

  it('grows by a quarter at least, so flushes creeping up in size do not each take a fresh buffer', () => {
    const a = new Table(batches(12, 512, 6));
    const b = new Table(batches(13, 512, 6));
    vi.advanceTimersByTime(KEPT_MEMORY_IDLE_MS); // start from nothing
    expect(ipcScratchBytes()).toBe(0);
    const first = ipcStreamScratch(a);
    const second = ipcStreamScratch(b); // ~8 % more than a: outgrows the buffer sized to a
    expect(second.byteLength).toBeGreaterThan(first.buffer.byteLength);
    expect(second.buffer === first.buffer).toBe(false);
    expect(second.buffer.byteLength).toBeGreaterThanOrEqual(Math.ceil(first.buffer.byteLength * 1.25));
    expect(Buffer.from(second).equals(Buffer.from(tableToIPC(b, 'stream')))).toBe(true);
    // A stream between the two fits without a new buffer.
    const third = ipcStreamScratch(a);
    expect(third.buffer === second.buffer).toBe(true);
  });
});
