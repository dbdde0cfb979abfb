/**
 * The derived columns (src/schema/derived.ts: traces' `end_time` of schema version 3) in a broad
 * read's wasm path: parquet-wasm decodes a file's stored columns to Arrow, and the answer's
 * derived columns are added to each record batch — the sum of two int64 buffers — so a
 * version-3 file keeps the fast path instead of falling back to the value-by-value scan.
 */
import { makeData, RecordBatch, Struct, type Data, type Field, type Schema } from 'apache-arrow';
import { derivedIn, int64Sum, type DerivedColumn } from '../../schema/derived.js';

/**
 * The derived columns a file lacks among `answer`'s, when the file's columns are the answer's
 * without them (same order); null when the file does not line up that way.
 */
export function missingDerived(file: Schema, answer: Schema, derived: readonly DerivedColumn[]): DerivedColumn[] | null {
  const has = new Set(file.fields.map((f) => f.name));
  const missing = derivedIn(derived, has).filter((d) => answer.fields.some((f) => f.name === d.name));
  if (missing.length === 0) return null;
  const rest = answer.fields.filter((f) => !missing.some((d) => d.name === f.name));
  return rest.length === file.fields.length && rest.every((f, i) => f.name === file.fields[i]!.name) ? missing : null;
}

/** `batch` (a file's stored columns) as a batch of `answer` with the missing derived columns computed. */
export function withDerivedColumns(batch: RecordBatch, answer: Schema, missing: readonly DerivedColumn[]): RecordBatch {
  const n = batch.numRows;
  const children: Data[] = answer.fields.map((f: Field) => {
    const d = missing.find((x) => x.name === f.name);
    if (!d) return batch.getChild(f.name)!.data[0]!.clone(f.type);
    return sumData(f, batch.getChild(d.sum[0])!.data[0]!, batch.getChild(d.sum[1])!.data[0]!, n);
  });
  return new RecordBatch(answer, makeData({ type: new Struct(answer.fields), length: n, nullCount: 0, children }));
}

/** a + b in int64 (wrapping, as the writer subtracted), null where either is null. */
function sumData(field: Field, a: Data, b: Data, n: number): Data {
  const av = a.values as BigInt64Array;
  const bv = b.values as BigInt64Array;
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) out[i] = int64Sum(av[a.offset + i]!, bv[b.offset + i]!);
  if (a.nullCount === 0 && b.nullCount === 0) return makeData({ type: field.type, length: n, nullCount: 0, data: out });
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (a.getValid(i) && b.getValid(i)) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return makeData({ type: field.type, length: n, nullCount: nulls, nullBitmap: bitmap, data: out });
}
