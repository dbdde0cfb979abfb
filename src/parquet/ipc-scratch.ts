/**
 * A table's Arrow IPC stream written into one reused buffer, for the hand-off to wasm.
 *
 * `tableToIPC` joins the writer's pieces into a fresh buffer the size of the whole flush
 * (~760 bytes a span: 25 MB for a 33k-span flush), which wasm then copies into its own memory
 * and the JavaScript heap frees. Each such buffer is external memory V8 counts towards its next
 * collection, so every flush set off scavenges and mark-compacts ("external memory pressure")
 * on the main thread and V8's helper threads (issue 19: about a third of the daemon's CPU was
 * those threads). Here the pieces are copied into a buffer kept between flushes, so steady
 * ingest allocates nothing for the hand-off: same bytes, same one copy.
 *
 * Memory: the buffer is sized to the largest stream since it was last let go (a file holds at
 * most `MAX_ROWS_PER_FILE` rows), the size of the transient join it replaces, so the peak does
 * not rise. It is kept while flushes keep coming, whatever their sizes, and let go after
 * `KEPT_MEMORY_IDLE_MS` (runtime/idle-release.ts) without one, so an idle daemon does not hold it. One per thread (module
 * state): the main thread and each encode worker.
 *
 * Why keep it through small flushes (it used to be dropped after a stream under a quarter of
 * it): a partition's big flush is often followed by a small one (the hour's tail, a quiet
 * service), and the next big flush then wrote 64 MiB of fresh memory. The first write to a
 * fresh page is a page fault in the kernel (~12 µs a 4 KiB page on the bench VM: ~200 ms for
 * 64 MiB, against ~5 ms to copy into memory written before): on the realistic trace load that
 * was 9 new buffers in 17 flushes, ~110k faults, ~7 % of the daemon's CPU (bench/NOTES.md).
 */
import { AsyncByteQueue, RecordBatchStreamWriter, type Data, type Table } from 'apache-arrow';
import { IdleRelease } from '../runtime/idle-release.js';

/** Growth floor: small streams (tests, small flushes) share one modest allocation. */
const MIN_CAPACITY = 1 << 20;
/** Room for the stream's messages (schema, batch headers, padding) beyond the column buffers. */
const SLACK = 1.05;

/** Bytes of every buffer of `d` and its children: the bulk of its IPC message. */
function bufferBytes(d: Data): number {
  let n = (d.values?.byteLength ?? 0) + (d.valueOffsets?.byteLength ?? 0) + (d.nullBitmap?.byteLength ?? 0);
  for (const c of d.children) n += bufferBytes(c);
  return n;
}

let scratch: ArrayBuffer | null = null;
const idle = new IdleRelease(() => {
  scratch = null;
});

/** Bytes the thread's buffer holds now, 0 when it was let go (tests). */
export function ipcScratchBytes(): number {
  return scratch?.byteLength ?? 0;
}

/** The sink the stream writer copies each piece into (the writer keeps no list of pieces). */
class ScratchSink extends AsyncByteQueue {
  used = 0;

  constructor(private buffer: Uint8Array) {
    super();
  }

  override write(value: Uint8Array): void {
    const n = value.byteLength;
    if (n === 0) return;
    if (this.used + n > this.buffer.length) {
      // Rare: the stream outgrew the estimate it was sized to (see `ipcStreamInto`).
      const next = new Uint8Array(Math.max(this.used + n, Math.ceil(this.buffer.length * 1.25)));
      next.set(this.buffer.subarray(0, this.used));
      this.buffer = next;
    }
    this.buffer.set(value, this.used);
    this.used += n;
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.used);
  }
}

/**
 * The IPC stream of `table`, byte for byte what `tableToIPC(table, 'stream')` returns, as a
 * view of the thread's reused buffer: valid only until the next call (the caller copies it into
 * wasm at once).
 */
export function ipcStreamScratch(table: Table): Uint8Array {
  const bytes = ipcStreamInto(table, scratch ?? undefined);
  scratch = bytes.buffer as ArrayBuffer;
  idle.touch();
  return bytes;
}

/**
 * The IPC stream of `table` written into `buffer` when it is large enough, else into a new one:
 * a view from offset 0 of the buffer used, which the caller owns (the encode pool transfers it
 * to a worker, which sends it back for the next flush).
 */
export function ipcStreamInto(table: Table, buffer?: ArrayBuffer): Uint8Array {
  // Sized to the table's buffers up front, so the buffer is about the stream's size (not a
  // doubling past it) and the first flush does not leave a trail of outgrown buffers.
  let estimate = 0;
  for (const b of table.batches) estimate += bufferBytes(b.data);
  estimate = Math.max(MIN_CAPACITY, Math.ceil(estimate * SLACK) + 65536);
  // Outgrown: a quarter more than the old size at least, so flushes that creep up in size do not
  // each write a fresh buffer (pages never written are not resident).
  const target = buffer && buffer.byteLength >= estimate ? new Uint8Array(buffer) : new Uint8Array(Math.max(estimate, Math.ceil((buffer?.byteLength ?? 0) * 1.25)));
  const sink = new ScratchSink(target);
  const writer = new RecordBatchStreamWriter();
  // As `RecordBatchStreamWriter.writeAll(table)` does, into our sink instead of a queue of pieces.
  writer.reset(sink, table.schema);
  for (const batch of table.batches) writer.write(batch);
  writer.finish();
  return sink.bytes();
}
