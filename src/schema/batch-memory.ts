/**
 * The memory a buffered batch lives in: one slab per batch, reused after the batch is stored.
 *
 * A request's batch keeps exact copies of its builders' arrays (buffer-pool.ts `settle`,
 * columns.ts `tight`) for as long as it waits in a partition buffer. Allocated one by one, those
 * copies were the most expensive line of the metrics path (`new Ctor(used)`: ~8 % of the main
 * thread in steady state, ~4 % on traces; bench/NOTES.md): ~90 ArrayBuffers and ~300–460 KB per
 * request, each zeroed by calloc, tracked and swept by V8, and — the batches dying together at
 * each flush — handed back to the allocator and faulted in again. Now a batch's arrays are
 * copied into one slab, and the buffers give the slab back (`releaseBatchMemory`) once the flush
 * that held the batch is stored, so the next requests write into warm memory.
 *
 * Ownership: only the partition buffers release, and only a batch they got whole from a
 * request (never a slice left over by a partly stored flush, never a batch re-read from the
 * log). Releasing detaches the slab (a transfer to a new ArrayBuffer over the same memory), so
 * a view that somehow outlived its batch reads an empty buffer instead of another batch's rows.
 * A slab nobody releases (the library, refused or spilled groups) is collected like any array.
 *
 * Memory: slabs come in sixteen sizes per octave (at most 1/16 unused; a batch may take a pooled
 * slab up to two sizes larger); the pool keeps at most `setBatchMemoryPoolLimit` bytes (a share
 * of `[buffer] memory_limit_mb`) and lets them go after a minute without a release or a request
 * (runtime/idle-release.ts). Buffered and pooled bytes together stay near the buffers' peak: a
 * flush moves a batch's slab from one to the other, and the next requests take it back.
 */
import { FreeBuffers } from '../runtime/free-buffers.js';
import { IdleRelease } from '../runtime/idle-release.js';

/** Batches smaller than this keep allocating their arrays one by one (not worth a slab). */
const MIN_SLAB = 16 * 1024;
/** Arrays start on 8-byte boundaries (BigInt64Array, Float64Array views need it). */
const ALIGN = 8;

/**
 * The most bytes of released slabs kept for reuse, unless the daemon sets its own: a flush of
 * 100,000 spans gives back ~115 MiB, and what the pool cannot keep is allocated afresh.
 */
export const DEFAULT_POOL_LIMIT = 128 * 1024 * 1024;

const free = new FreeBuffers(DEFAULT_POOL_LIMIT);
const idle = new IdleRelease(() => free.clear());

/** The slab being filled by the batch now finishing (finish is synchronous), and where. */
let open: ArrayBuffer | null = null;
let offset = 0;

/** The slab size for `bytes`: rounded up to a sixteenth of its octave. */
export function slabSize(bytes: number): number {
  const step = 2 ** Math.max(0, Math.floor(Math.log2(bytes)) - 4);
  return Math.ceil(bytes / step) * step;
}

/** Caps the bytes the pool keeps; 0 keeps none. */
export function setBatchMemoryPoolLimit(bytes: number): void {
  free.setLimit(bytes);
}

/**
 * Sizes the pool for a daemon whose buffers may hold `memoryLimitBytes`: a quarter of it, at
 * most `DEFAULT_POOL_LIMIT`. A flush moves its batches' slabs from the buffers to the pool and
 * the next requests take them back, so the two together stay near the buffers' peak.
 */
export function sizeBatchMemoryPool(memoryLimitBytes: number): void {
  setBatchMemoryPoolLimit(Math.min(DEFAULT_POOL_LIMIT, memoryLimitBytes / 4));
}

/**
 * Starts a batch whose kept arrays hold about `bytes` (its builders' `byteSize`): they are
 * copied into one slab until `closeBatchMemory`. Small batches get no slab.
 */
export function openBatchMemory(bytes: number): void {
  open = null;
  offset = 0;
  // Room for each array's alignment and the validity bitmaps byteSize leaves out.
  const need = bytes + (bytes >> 5) + 1024;
  if (need < MIN_SLAB) return;
  const size = slabSize(need);
  // Its own size, else one of the next two (at most ~1/8 more): requests vary a little in size,
  // and a slab left unused in the pool helps nobody.
  for (let i = 0, s = size; i < 3; i++, s = slabSize(s + 1)) {
    const pooled = free.take(s);
    if (pooled !== undefined) {
      idle.touch();
      open = pooled;
      return;
    }
  }
  open = new ArrayBuffer(size);
}

/** Ends the batch: its slab (nothing when it had none or used none), which the batch now owns. */
export function closeBatchMemory(): ArrayBuffer | undefined {
  const slab = open !== null && offset > 0 ? open : undefined;
  open = null;
  offset = 0;
  return slab;
}

/** Whether the open slab (if any) has room for `bytes` more. */
export function slabRoomFor(bytes: number): boolean {
  return open !== null && offset + bytes <= open.byteLength;
}

type Kept = Uint8Array | Int32Array | Uint32Array | Float64Array | BigInt64Array;

/**
 * An exact copy of `view` for a batch to keep: in the open slab when it fits (a reused slab
 * holds an earlier batch's bytes, so every element is written: the copy is whole), else new.
 */
export function keepCopy<T extends Kept>(view: T): T {
  const bytes = view.byteLength;
  if (open !== null && offset + bytes <= open.byteLength) {
    const at = offset;
    offset = (at + bytes + ALIGN - 1) & ~(ALIGN - 1);
    const Ctor = (view instanceof Uint8Array ? Uint8Array : view.constructor) as new (buffer: ArrayBuffer, byteOffset: number, length: number) => T;
    const copy = new Ctor(open, at, view.length);
    (copy as unknown as { set(a: T): void }).set(view);
    return copy;
  }
  // Not `view.slice()`: on a Buffer that is another view of the same memory.
  const Ctor = (view instanceof Uint8Array ? Uint8Array : view.constructor) as new (n: number) => T;
  const copy = new Ctor(view.length);
  (copy as unknown as { set(a: T): void }).set(view);
  return copy;
}

/**
 * A stored batch's slab, for reuse. The caller owned the batch whole and holds it no longer;
 * the slab is detached first, so any view left of it reads as empty.
 */
export function releaseBatchMemory(slab: ArrayBuffer): void {
  if (slab.byteLength === 0) return; // already detached (released twice, or transferred)
  if (free.give(structuredClone(slab, { transfer: [slab] }))) idle.touch();
}

/** Bytes of released slabs the pool holds now (tests, metrics). */
export function pooledBatchMemoryBytes(): number {
  return free.bytes;
}
