/**
 * A flush's CPU-bound half: reorder its rows (the dataset's sort columns), cut them into files
 * of at most `maxRows` rows, build each file's bloom filter / trace index and encode it as
 * Parquet. The same function runs on the event loop (`[parquet] encode_workers = 0`) or on an
 * encode worker (encode-worker.ts), where the plan crosses by structured clone: plain data only.
 *
 * The sort is synchronous; the encoding hands the rows to wasm a slice at a time
 * (`encodeParquetStreamed`) and may yield between slices. The sorted rows live in the thread's
 * sort arena, which the next sort on the thread overwrites, so a thread encodes one flush at a
 * time: `encodeFlush` queues behind the thread's flush in progress.
 */
import { DataType, type RecordBatch } from 'apache-arrow';
import { chunkBatches, encodeParquetStreamed, type ParquetWriterOptions } from '../parquet/writer.js';
import { buildFileIndex, FOOTER_KEYS } from '../parquet/contract.js';
import { sortBatches } from './sort.js';
import { withSortArena } from './sort-arena.js';

/** How one flush is encoded: everything but its rows. */
export interface EncodePlan {
  /** Footer entries that come before the row count (dataset, schema version, event-time bounds). */
  readonly head: ReadonlyArray<readonly [string, string]>;
  /** The footer's writer entry. */
  readonly writer: string;
  readonly parquet: ParquetWriterOptions;
  readonly sortBy: readonly string[];
  readonly maxRows: number;
  /** A string column whose values go into a footer bloom filter. */
  readonly bloomColumn?: string;
  /** A string column whose bloom filter goes into the file's write-log entry (the trace index). */
  readonly indexColumn?: string;
}

/** One encoded file, plain data (it may come back from a worker). */
export interface EncodedChunk {
  readonly body: Uint8Array;
  readonly rows: number;
  /** The trace index as written (`FileIndex.encoded`), when the plan has an index column. */
  readonly index?: { readonly column: string; readonly encoded: string };
}

/** The flush's rows in file order, cut into files (also used to find a failed flush's rest). */
export function orderedChunks(batches: readonly RecordBatch[], plan: Pick<EncodePlan, 'sortBy' | 'maxRows'>): RecordBatch[][] {
  const ordered = plan.sortBy.length > 0 && batches.length > 0 ? [sortBatches(batches, plan.sortBy)] : batches;
  return chunkBatches(ordered, plan.maxRows);
}

/** The thread's flush in progress (settled either way): the next one starts after it. */
let inProgress: Promise<unknown> = Promise.resolve();

/**
 * Sorts and encodes a flush. `between` runs between the slices handed to wasm (the event-loop
 * encoder yields to requests there).
 */
export function encodeFlush(batches: readonly RecordBatch[], plan: EncodePlan, between?: () => Promise<void>): Promise<EncodedChunk[]> {
  const run = inProgress.then(() => sortAndEncode(batches, plan, between));
  inProgress = run.catch(() => undefined);
  return run;
}

async function sortAndEncode(batches: readonly RecordBatch[], plan: EncodePlan, between?: () => Promise<void>): Promise<EncodedChunk[]> {
  // The sorted rows live in the thread's sort arena until the next flush sorts (after this one,
  // see `encodeFlush`): they are only read here, and what this returns holds none of them (the
  // file bytes come out of wasm).
  const chunks = withSortArena(() => orderedChunks(batches, plan));
  const out: EncodedChunk[] = [];
  for (const chunk of chunks) out.push(await encodeChunk(chunk, plan, between));
  return out;
}

async function encodeChunk(chunk: readonly RecordBatch[], plan: EncodePlan, between?: () => Promise<void>): Promise<EncodedChunk> {
  let rows = 0;
  for (const b of chunk) rows += b.numRows;
  const metadata = new Map<string, string>(plan.head.map(([k, v]) => [k, v] as [string, string]));
  metadata.set(FOOTER_KEYS.rowCount, String(rows));
  metadata.set(FOOTER_KEYS.writer, plan.writer);
  const { bloomColumn, indexColumn } = plan;
  const bloom = bloomColumn ? buildFileIndex(bloomColumn, columnStrings(chunk, bloomColumn)) : undefined;
  if (bloom) metadata.set(FOOTER_KEYS.traceIdBloom, bloom.encoded);
  const index = indexColumn ? (indexColumn === bloomColumn ? bloom : buildFileIndex(indexColumn, columnStrings(chunk, indexColumn))) : undefined;
  const body = await encodeParquetStreamed(chunk, metadata, plan.parquet, { between });
  return { body, rows, ...(index ? { index: { column: index.column, encoded: index.encoded } } : {}) };
}

/**
 * A string column's values for its bloom filter / trace index, repeats of the previous value left
 * out: `buildFileIndex` keeps distinct values only, and the rows are sorted by this column (a
 * trace's spans are one run), so only a run's first row is decoded from UTF-8 — decoding every
 * row cost about as much as handing the whole file to wasm.
 */
export function* columnStrings(batches: readonly RecordBatch[], column: string): Generator<string> {
  for (const b of batches) {
    const vec = b.getChild(column);
    if (!vec) continue;
    if (!DataType.isUtf8(vec.type as DataType)) {
      for (let i = 0; i < b.numRows; i++) {
        const v = vec.get(i) as string | null;
        if (v !== null) yield v;
      }
      continue;
    }
    for (const d of vec.data) {
      // A sliced Data's offsets are already a sub-array; its validity bits start at `offset`.
      const o = d.valueOffsets as Int32Array;
      const v = d.values as Uint8Array;
      const text = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      const bits = d.nullCount > 0 ? d.nullBitmap : undefined;
      let prev = -1;
      for (let r = 0; r < d.length; r++) {
        if (bits && (bits[(d.offset + r) >> 3]! & (1 << ((d.offset + r) & 7))) === 0) continue;
        if (prev >= 0 && sameBytes(v, o[prev]!, o[prev + 1]!, o[r]!, o[r + 1]!)) continue;
        prev = r;
        yield text.toString('utf8', o[r]!, o[r + 1]!);
      }
    }
  }
}

function sameBytes(v: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (; a < aEnd; a++, b++) if (v[a] !== v[b]) return false;
  return true;
}
