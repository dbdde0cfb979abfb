/**
 * The page decompressors the query engine hands hyparquet: hyparquet-compressors' set, with
 * ZSTD (every file this daemon writes) decoded by zstd's own C decoder compiled to WebAssembly
 * (@bokuweb/zstd-wasm) instead of fzstd, a JavaScript port. Measured on the traces pages of one
 * partition (2,683 pages, bench/LAKE.md session 3): 131–174 ms with fzstd, 50–63 ms with the
 * WebAssembly decoder, byte-identical output; fzstd's Huffman decoding was ~45 % of a selective
 * filter's page decoding.
 *
 * The WebAssembly module loads asynchronously, once per process (or worker); until it has,
 * and if it ever fails to load, pages go through fzstd as before.
 */
import { decompress as wasmDecompress } from '@bokuweb/zstd-wasm';
import type { Compressors } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { loadZstdWasm, zstdWasmLoaded } from './zstd-wasm.js';

/** Resolves once the WebAssembly decoder is in use (never rejects: fzstd stays otherwise). */
export const zstdReady: Promise<boolean> = loadZstdWasm();

const fzstd = compressors.ZSTD!;

export const COMPRESSORS: Compressors = {
  ...compressors,
  // `length` is the page's uncompressed size (from its header): the output buffer when the
  // frame does not carry its own content size.
  ZSTD: (input: Uint8Array, length: number): Uint8Array => (zstdWasmLoaded() ? wasmDecompress(input, { defaultHeapSize: Math.max(length, 1) }) : fzstd(input, length)),
};
