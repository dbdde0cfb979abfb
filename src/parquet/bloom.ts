/**
 * A bloom filter of a file's trace ids, kept in the file's own footer key-value metadata
 * (`s3parquet.trace_id_bloom`), so the query port can rule a file out of a trace lookup with the
 * footer it reads anyway — no extra object, no extra request. parquet-wasm cannot write
 * Parquet's native bloom filters, and other engines ignore this key.
 *
 * Encoding: `v1:<k>:<m bits>:<base64 bits>`. Indexes come from double hashing two FNV-1a hashes
 * of the id's text, so the filter works for any id, random or not. ~10 bits per id with k = 7
 * gives about 1% false positives.
 */

const BITS_PER_ID = 10;
const HASHES = 7;

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function* indexes(id: string, k: number, m: number): Generator<number> {
  const h1 = fnv1a(id, 0x811c9dc5);
  const h2 = fnv1a(id, 0x9747b28c) | 1;
  for (let i = 0; i < k; i++) yield ((h1 + Math.imul(i, h2)) >>> 0) % m;
}

export function buildBloom(ids: Iterable<string>, count: number): string {
  const m = Math.max(64, Math.ceil((count * BITS_PER_ID) / 8) * 8);
  const bits = new Uint8Array(m / 8);
  for (const id of ids) for (const i of indexes(id, HASHES, m)) bits[i >> 3]! |= 1 << (i & 7);
  return `v1:${HASHES}:${m}:${Buffer.from(bits).toString('base64')}`;
}

export interface Bloom {
  mightContain(id: string): boolean;
}

/** Parses an encoded filter; anything unreadable yields null (no pruning, never a wrong answer). */
export function parseBloom(encoded: string | undefined): Bloom | null {
  if (!encoded) return null;
  const [version, k, m, data] = encoded.split(':');
  const hashes = Number(k);
  const size = Number(m);
  if (version !== 'v1' || !data || !Number.isInteger(hashes) || !Number.isInteger(size) || size <= 0) return null;
  const bits = Buffer.from(data, 'base64');
  if (bits.length * 8 !== size) return null;
  return {
    mightContain(id: string): boolean {
      for (const i of indexes(id, hashes, size)) if ((bits[i >> 3]! & (1 << (i & 7))) === 0) return false;
      return true;
    },
  };
}
