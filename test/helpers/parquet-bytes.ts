/**
 * Comparing Parquet files the writer produced. parquet-wasm keeps the footer's key-value entries
 * in a Rust HashMap, so their order differs from one writer to the next: two files of the same
 * rows and settings are "the same" when every byte before the footer is equal and the footers
 * decode the same with those entries taken as a set.
 */
import { parquetMetadata } from 'hyparquet';
import { expect } from 'vitest';
import type { EncodedChunk } from '../../src/pipeline/encode-flush.js';

/** The file's bytes as an ArrayBuffer of their own (hyparquet reads ArrayBuffers). */
export const arrayBuffer = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** JSON that takes bigints (Parquet metadata and rows hold them). */
export const json = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

/** Both files' bytes before the footer are equal, and their footers decode the same (key-value entries as a set). */
export function expectSameFile(actual: Uint8Array, expected: Uint8Array): void {
  const footerStart = (b: Uint8Array) => b.length - 8 - new DataView(b.buffer, b.byteOffset + b.length - 8, 4).getUint32(0, true);
  expect(actual.length).toBe(expected.length);
  expect(footerStart(actual)).toBe(footerStart(expected));
  expect(Buffer.from(actual.subarray(0, footerStart(actual))).equals(Buffer.from(expected.subarray(0, footerStart(expected))))).toBe(true);
  const footer = (b: Uint8Array) => {
    const m = parquetMetadata(arrayBuffer(b));
    return json({ ...m, key_value_metadata: [...(m.key_value_metadata ?? [])].sort((x, y) => x.key.localeCompare(y.key)), metadata_length: 0 });
  };
  expect(footer(actual)).toBe(footer(expected));
}

/** Two flushes' files: the same row counts, the same files (`expectSameFile`) and the same trace indexes, in order. */
export function expectSameChunks(actual: readonly EncodedChunk[], expected: readonly EncodedChunk[]): void {
  expect(actual.map((c) => c.rows)).toEqual(expected.map((c) => c.rows));
  for (let i = 0; i < expected.length; i++) {
    expectSameFile(actual[i]!.body, expected[i]!.body);
    expect(actual[i]!.index).toEqual(expected[i]!.index);
  }
}
