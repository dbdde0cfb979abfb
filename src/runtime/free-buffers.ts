/**
 * ArrayBuffers given back for reuse, by exact size, up to a byte limit: the builders' borrowed
 * buffers (schema/buffer-pool.ts, powers of two) and the batches' slabs (schema/batch-memory.ts,
 * sixteen sizes an octave). Reused memory was written before, so it costs no page faults, no
 * zeroing and no new ArrayBuffer for V8 to track (bench/NOTES.md). One per owner and thread.
 */
export class FreeBuffers {
  private readonly bySize = new Map<number, ArrayBuffer[]>();
  private held = 0;

  constructor(private limit: number) {}

  /** Bytes kept now. */
  get bytes(): number {
    return this.held;
  }

  /** A kept buffer of exactly `size` bytes, if there is one. */
  take(size: number): ArrayBuffer | undefined {
    const buffer = this.bySize.get(size)?.pop();
    if (buffer !== undefined) this.held -= size;
    return buffer;
  }

  /** Keeps `buffer` unless that would pass the limit (then it is left to the garbage collector); false when not kept. */
  give(buffer: ArrayBuffer): boolean {
    const size = buffer.byteLength;
    if (this.held + size > this.limit) return false;
    let list = this.bySize.get(size);
    if (list === undefined) this.bySize.set(size, (list = []));
    list.push(buffer);
    this.held += size;
    return true;
  }

  /** Lets every kept buffer go. */
  clear(): void {
    this.bySize.clear();
    this.held = 0;
  }

  /** A new limit; what is kept beyond it is let go. */
  setLimit(bytes: number): void {
    this.limit = Math.max(0, bytes);
    if (this.held > this.limit) this.clear();
  }
}
