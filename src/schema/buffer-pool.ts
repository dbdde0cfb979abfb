/**
 * The column builders' growable buffers, kept between requests (one pool per thread: module
 * state, and conversion is synchronous, so a buffer is never lent twice).
 *
 * A request's builders used to allocate their buffers fresh, double them as they filled and
 * copy the used part out at the end: ~1,580 bytes of ArrayBuffers per bench span for ~760
 * kept (bench/pipeline/alloc-per-span.ts). ArrayBuffers are external memory, and V8 answers
 * every ~32 MB of new ones with a scavenge ("external memory pressure"), so that garbage cost
 * collections on the main thread and V8's helper threads (issue 19). Now a builder borrows a
 * buffer of a power-of-two size, grows into another borrowed one, and at the end hands the
 * batch an exact copy and gives the buffers back: per request only what the batch keeps is
 * allocated.
 *
 * A borrowed buffer holds an earlier request's bytes: builders write every element they later
 * read (offsets[0] included). Memory: at most `MAX_POOLED_BYTES` (4 MiB) are kept per thread,
 * buffers of 1 KiB to 16 MiB; in steady state about one request's builders (under 1 MiB for a
 * 512-span request), counted in the process's RSS like any buffer.
 */

import { FreeBuffers } from '../runtime/free-buffers.js';
import { keepCopy, slabRoomFor } from './batch-memory.js';

const MIN_SHIFT = 10;
const MAX_SHIFT = 24;
/** The most bytes a thread's pool keeps; a buffer given back beyond it is left to the GC. */
export const MAX_POOLED_BYTES = 4 * 1024 * 1024;

const free = new FreeBuffers(MAX_POOLED_BYTES);
/** Buffers lent and not given back: only these are taken back (never a batch's, never twice). */
const lent = new WeakSet<ArrayBuffer>();

function shiftFor(bytes: number): number {
  let s = MIN_SHIFT;
  while (1 << s < bytes) s++;
  return s;
}

/** A buffer of at least `bytes` (a power of two from 1 KiB; larger than 16 MiB: exact, not pooled). */
export function borrowBuffer(bytes: number): ArrayBuffer {
  if (bytes > 1 << MAX_SHIFT) return new ArrayBuffer(bytes);
  const size = 1 << shiftFor(bytes);
  const buffer = free.take(size) ?? new ArrayBuffer(size);
  lent.add(buffer);
  return buffer;
}

/** Gives a borrowed buffer back; nothing may use it afterwards. Other buffers are ignored. */
export function returnBuffer(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof ArrayBuffer) || !lent.delete(buffer)) return;
  if (buffer.byteLength <= 1 << MAX_SHIFT) free.give(buffer);
}

/** Bytes the pool holds now (tests). */
export function pooledBufferBytes(): number {
  return free.bytes;
}

type Pooled = Uint8Array | Int32Array | Uint32Array | Float64Array | BigInt64Array;

/** A typed array over a borrowed buffer, at least `length` long (its length is the buffer's). */
export function borrowArray<T extends Pooled>(Ctor: { new (buffer: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number }, length: number): T {
  return new Ctor(borrowBuffer(Math.max(1, length) * Ctor.BYTES_PER_ELEMENT));
}

/**
 * The first `used` elements of a borrowed array for a batch to keep: copied into the batch's
 * slab when one is open (batch-memory.ts; the borrowed buffer goes back), else the array itself
 * when it is nearly full (then it is not given back), else an exact copy, the buffer given back.
 */
export function settle<T extends Pooled>(array: T, used: number): T {
  if (!slabRoomFor(used * array.BYTES_PER_ELEMENT) && array.length <= used + (used >> 3) + 64) {
    // The batch keeps this buffer: it is no longer ours to give back.
    if (array.buffer instanceof ArrayBuffer) lent.delete(array.buffer);
    return array.subarray(0, used) as T;
  }
  const copy = keepCopy(array.subarray(0, used) as T);
  returnBuffer(array.buffer);
  return copy;
}
