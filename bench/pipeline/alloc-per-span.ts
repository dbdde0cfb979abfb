/**
 * ArrayBuffer bytes allocated per span by stage, for one source tree: the external memory that
 * sets off V8's scavenges ("external memory pressure": a young-generation collection per
 * ~32 MB of new ArrayBuffers) and, once buffered batches are promoted, its mark-compacts.
 * Measured as the growth of `process.memoryUsage().arrayBuffers` over one step after a full
 * collection (nothing is freed inside a step that allocates less than V8's threshold; a step
 * in which a collection ran is reported as such). Run with `--expose-gc`:
 *
 *   node --expose-gc --import tsx bench/pipeline/alloc-per-span.ts [DIR=.]
 *
 * Stages: the one-pass decoder into Arrow (per request of 512 bench spans), a flush's sort
 * (4,096 spans), the Arrow IPC hand-off and the Parquet encode of the sorted rows, and the
 * write-ahead log's framing of one request.
 */
import { resolve } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { traceRequests } from '../load/traces.js';
import { layoutWriterOptions } from '../../src/parquet/writer.js';
import { loadTreeParts } from './decoder-ab.js';

const root = resolve(process.argv[2] ?? '.');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const { convertTracesWire } = (await import(`${root}/src/pipeline/convert-traces-wire.ts`)) as typeof import('../../src/pipeline/convert-traces-wire.js');
const { sortBatches } = (await import(`${root}/src/pipeline/sort.ts`)) as typeof import('../../src/pipeline/sort.js');
const { encodeFlush } = (await import(`${root}/src/pipeline/encode-flush.ts`)) as typeof import('../../src/pipeline/encode-flush.js');
const { fileWriterSettings } = (await import(`${root}/src/pipeline/file-writer-settings.ts`)) as typeof import('../../src/pipeline/file-writer-settings.js');
const { defaultConfig } = (await import(`${root}/src/config/index.ts`)) as typeof import('../../src/config/index.js');
const { DATASETS } = (await import(`${root}/src/schema/datasets.ts`)) as typeof import('../../src/schema/datasets.js');
const format = (await import(`${root}/src/wal/format.ts`)) as Record<string, unknown>;

const { prepared, partitioner, promoted } = await loadTreeParts(root, ['http.request.method', 'http.response.status_code', 'url.path', 'server.address']);
const PER = 512;
const requests = traceRequests(42, 24, PER);

/** ArrayBuffer bytes a step allocates (after a full collection); a step that returns a promise is awaited. */
async function measure<T>(step: () => T | Promise<T>): Promise<{ bytes: number; result: T }> {
  gc!();
  const before = process.memoryUsage().arrayBuffers;
  const result = await step();
  return { bytes: process.memoryUsage().arrayBuffers - before, result };
}

const convert = (body: Uint8Array) => convertTracesWire(prepared('traces', body), partitioner, promoted);
// Warm-up: the JIT and module state (the first calls allocate tables, plans).
for (const r of requests.slice(0, 8)) convert(r);
const perStage: Record<string, number[]> = { decode: [], wal: [], sort: [], encode: [] };
const batches: RecordBatch[] = [];
for (const r of requests.slice(8)) {
  const { bytes, result } = await measure(() => convert(r));
  perStage.decode!.push(bytes / PER);
  for (const g of result.groups) batches.push(g.batch);
  const parts = format.encodeEntryParts as ((e: unknown) => Buffer[]) | undefined;
  const entry = { type: 'data', seq: 1, receivedNs: 1n, signal: 'traces', format: 'protobuf', body: Buffer.from(r) };
  // What the log allocates for an entry: the old encoding joined the request into one frame.
  perStage.wal!.push((await measure(() => (parts ? parts(entry) : (format.encodeEntry as (e: unknown) => Buffer)(entry)))).bytes / PER);
}
const spans = batches.reduce((n, b) => n + b.numRows, 0);
/** The bytes the batches keep (every buffer of every column, children included). */
function kept(d: { values?: ArrayBufferView; valueOffsets?: ArrayBufferView; nullBitmap?: ArrayBufferView; children: readonly unknown[] }): number {
  let n = (d.values?.byteLength ?? 0) + (d.valueOffsets?.byteLength ?? 0) + (d.nullBitmap?.byteLength ?? 0);
  for (const c of d.children) n += kept(c as typeof d);
  return n;
}
const keptPerSpan = batches.reduce((n, b) => n + kept(b.data as never), 0) / spans;
const settings = fileWriterSettings(defaultConfig());
const layout = settings.layouts!.traces!;
const plan = {
  head: [['s3pq.dataset', 'traces']] as ReadonlyArray<readonly [string, string]>,
  writer: 'bench',
  parquet: layoutWriterOptions(settings.parquet, layout),
  sortBy: [] as string[],
  maxRows: 100_000,
  bloomColumn: 'trace_id',
  indexColumn: 'trace_id',
};
for (let round = 0; round < 4; round++) {
  const sorted = await measure(() => sortBatches(batches, DATASETS.traces.storage.sortBy));
  perStage.sort!.push(sorted.bytes / spans);
  // Sorted already: the encode alone (bloom/index, IPC hand-off, wasm; the file body is kept).
  perStage.encode!.push((await measure(() => encodeFlush([sorted.result], plan))).bytes / spans);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const out = Object.fromEntries(Object.entries(perStage).map(([k, v]) => [k, +median(v).toFixed(1)]));
console.log(JSON.stringify({ root, spans, arrayBufferBytesPerSpan: out, arrowBytesKeptPerSpan: +keptPerSpan.toFixed(1) }));
