/**
 * A bloom filter of a file's values of one string column (traces: `trace_id`), kept in the
 * file's own footer key-value metadata (`s3parquet.trace_id_bloom`) and, the same text, in the
 * file's write-log entry (the trace index, `trace-index.ts`), so a lookup rules a file out
 * without opening it. parquet-wasm cannot write Parquet's native bloom filters, and other engines
 * ignore this key.
 *
 * Encoding: `v1:<k>:<m bits>:<base64 bits>`. Indexes come from double hashing two FNV-1a hashes
 * of the value's text, so the filter works for any id, random or not. The reader takes k and m
 * from the text, so the sizing below can change without a new version.
 *
 * Sizing: 16 bits per distinct value with k = 11 gives ~0.05 % false positives — a lookup over
 * a lake of 500 files opens one file it did not need about once in four lookups (10 bits and
 * k = 7, the first sizing, opened five). Callers pass distinct values (a file sorted by trace id
 * holds each id in one run of rows), so the filter is sized by traces, not spans.
 */

const BITS_PER_ID = 16;
const HASHES = 11;

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mightContainIn(bits: Uint8Array, k: number, m: number, id: string): boolean {
  const h1 = fnv1a(id, 0x811c9dc5);
  const h2 = fnv1a(id, 0x9747b28c) | 1;
  for (let i = 0; i < k; i++) {
    const bit = ((h1 + Math.imul(i, h2)) >>> 0) % m;
    if ((bits[bit >> 3]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/** Builds the encoded filter of `ids`; `count` sizes it (the number of distinct ids, at least). */
export function buildBloom(ids: Iterable<string>, count: number): string {
  const m = Math.max(64, Math.ceil((count * BITS_PER_ID) / 8) * 8);
  const bits = new Uint8Array(m / 8);
  setBits(Array.isArray(ids) ? (ids as readonly string[]) : [...ids], bits, m);
  return `v1:${HASHES}:${m}:${Buffer.from(bits).toString('base64')}`;
}

/**
 * The hashing loop on its own, over an array by index: `buildBloom` runs once per file, so V8
 * compiled it with its loop on-stack, and the allocation before the loop and the base64 after
 * it, which had no type feedback yet, deoptimized it — four TurboFan compiles (up to 130 ms)
 * over the first flushes (the JIT census, bench/NOTES.md). This function has nothing but the loop.
 */
function setBits(ids: readonly string[], bits: Uint8Array, m: number): void {
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n]!;
    const h1 = fnv1a(id, 0x811c9dc5);
    const h2 = fnv1a(id, 0x9747b28c) | 1;
    for (let i = 0; i < HASHES; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) % m;
      bits[bit >> 3]! |= 1 << (bit & 7);
    }
  }
}

export interface Bloom {
  mightContain(id: string): boolean;
  /** Bytes the filter holds in memory. */
  readonly bytes: number;
}

/** Parses an encoded filter; anything unreadable yields null (no pruning, never a wrong answer). */
export function parseBloom(encoded: string | undefined): Bloom | null {
  if (!encoded) return null;
  const [version, k, m, data] = encoded.split(':');
  const hashes = Number(k);
  const size = Number(m);
  if (version !== 'v1' || !data || !Number.isInteger(hashes) || hashes < 1 || hashes > 64 || !Number.isInteger(size) || size <= 0) return null;
  const bits = new Uint8Array(Buffer.from(data, 'base64'));
  if (bits.length * 8 !== size) return null;
  return { mightContain: (id: string): boolean => mightContainIn(bits, hashes, size, id), bytes: bits.length };
}
