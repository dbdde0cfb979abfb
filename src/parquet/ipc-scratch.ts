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
 * Memory: the buffer is as large as the largest stream since it last shrank (a file holds at
 * most `MAX_ROWS_PER_FILE` rows), the size of the transient join it replaces, so the peak does
 * not rise; a stream that uses under a quarter of it lets it go (one big flush does not pin its
 * size for good). One per thread (module state): the main thread and each encode worker.
 */
import { AsyncByteQueue, RecordBatchStreamWriter, type Table } from 'apache-arrow';

/** Growth floor: small streams (tests, small flushes) share one modest allocation. */
const MIN_CAPACITY = 1 << 20;

let scratch: Uint8Array | null = null;

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
      const next = new Uint8Array(Math.max(this.used + n, this.buffer.length * 2));
      next.set(this.buffer.subarray(0, this.used));
      this.buffer = next;
    }
    this.buffer.set(value, this.used);
    this.used += n;
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.used);
  }

  get capacity(): Uint8Array {
    return this.buffer;
  }
}

/**
 * The IPC stream of `table`, byte for byte what `tableToIPC(table, 'stream')` returns, as a
 * view of the thread's reused buffer: valid only until the next call (the caller copies it into
 * wasm at once).
 */
export function ipcStreamScratch(table: Table): Uint8Array {
  const sink = new ScratchSink(scratch ?? new Uint8Array(MIN_CAPACITY));
  const writer = new RecordBatchStreamWriter();
  // As `RecordBatchStreamWriter.writeAll(table)` does, into our sink instead of a queue of pieces.
  writer.reset(sink, table.schema);
  for (const batch of table.batches) writer.write(batch);
  writer.finish();
  const buffer = sink.capacity;
  scratch = sink.used < buffer.length >> 2 && buffer.length > MIN_CAPACITY ? null : buffer;
  return sink.bytes();
}
