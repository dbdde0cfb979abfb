/**
 * Memory for a flush's sorted rows, kept between flushes (one arena per thread: module state;
 * the main thread and each encode worker).
 *
 * The sort gathers every column of a flush into new arrays: ~670 bytes a span, 64 MiB for a
 * 100,000-row flush, dead as soon as the flush is encoded. Fresh each time, those arrays were
 * fresh pages each time (the allocator hands big freed blocks back to the kernel), and the first
 * write to a fresh page is a page fault (~12 µs a 4 KiB page on the bench VM: ~200 ms a 64 MiB
 * flush, against ~5 ms to write memory written before; bench/NOTES.md). Here the arrays are views
 * of a few 16 MiB blocks that the next flush writes again.
 *
 * Lifetime: `withSortArena` empties the arena and runs the sort in it; the sorted arrays stay
 * valid until the next `withSortArena` on the same thread. So only a caller that is done with
 * the sorted rows before it sorts again may use it: `encodeFlush`, which encodes one flush at a
 * time per thread (the next waits for the one in progress) and returns only the encoded files.
 * Outside it, `sortArray` allocates as before.
 *
 * Memory: the blocks add up to the largest flush sorted since the arena was last let go, the size
 * of the transient arrays they replace, so the peak does not rise; at most `KEEP_BYTES` stay after
 * a flush, and all are let go after `KEPT_MEMORY_IDLE_MS` without one.
 */

import { IdleRelease } from '../runtime/idle-release.js';

const BLOCK_BYTES = 16 << 20;
/** Blocks kept after a flush, at most (a bigger flush's extra blocks are left to the GC). */
const KEEP_BYTES = 128 << 20;

type ArenaArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** A typed array constructor: `new C(length)` and `new C(buffer, byteOffset, length)`. */
export interface ArrayType<T extends ArenaArray> {
  new (length: number): T;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

let blocks: ArrayBuffer[] = [];
let block = 0;
let at = 0;
let active = false;
const idle = new IdleRelease(() => {
  blocks = [];
  block = at = 0;
});

/** A zeroed array of `length` elements: from the arena inside `withSortArena`, else new. */
export function sortArray<T extends ArenaArray>(Type: ArrayType<T>, length: number): T {
  if (!active) return new Type(length);
  const bytes = (length * Type.BYTES_PER_ELEMENT + 7) & ~7; // 8-byte aligned: any element type may follow
  while (block < blocks.length && at + bytes > blocks[block]!.byteLength) {
    block++;
    at = 0;
  }
  if (block === blocks.length) blocks.push(new ArrayBuffer(Math.max(BLOCK_BYTES, bytes)));
  const buffer = blocks[block]!;
  const out = new Type(buffer, at, length);
  // A reused block holds the previous flush's bytes; `new Type(length)` would be zeros.
  new Uint8Array(buffer, at, bytes).fill(0);
  at += bytes;
  return out;
}

/**
 * Runs `sort` with `sortArray` taking memory from the thread's arena, after emptying it: the
 * arrays of the previous call on this thread are overwritten from here on.
 */
export function withSortArena<R>(sort: () => R): R {
  if (active) return sort(); // nested: one emptying per flush
  // A flush bigger than KEEP_BYTES does not pin its extra blocks.
  let kept = 0;
  let n = 0;
  while (n < blocks.length && kept + blocks[n]!.byteLength <= KEEP_BYTES) kept += blocks[n++]!.byteLength;
  blocks.length = n;
  block = 0;
  at = 0;
  active = true;
  try {
    return sort();
  } finally {
    active = false;
    idle.touch();
  }
}

/** Bytes the thread's arena holds now (tests). */
export function sortArenaBytes(): number {
  let n = 0;
  for (const b of blocks) n += b.byteLength;
  return n;
}
