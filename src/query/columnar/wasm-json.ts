/**
 * A broad read's NDJSON (or JSON items) written from parquet-wasm's record batches (issue 18):
 * the files are decoded by arrow-rs in wasm a row group at a time, as for the Arrow answer
 * (wasm-arrow.ts), and each row is written straight from the Arrow buffers into the reused
 * output buffer (arrow-json-writers.ts). Hyparquet's decoding, which made the JS values the
 * column-array path writes from, was most of a broad NDJSON query's CPU (bench/ISOLATION.md).
 *
 * The bytes are the column-array path's (json-batches.ts), byte for byte
 * (test/unit/wasm-json.test.ts compares every row of a lake). A file that does not fit the
 * answer's schema (another schema version, a projection) or is too large to take whole goes
 * through the engine's scan and that path, into the same stream.
 */
import { Schema, tableFromIPC } from 'apache-arrow';
import type { BroadFile, QueryEngine, QueryOptions, QueryStats } from '../engine.js';
import type { RecordFormat } from '../serialise.js';
import { arrowJsonWriterFor, type RowWriterMaker } from './arrow-json-writers.js';
import { BATCH_BYTES, jsonBatches } from './json-batches.js';
import { JsonBytes } from './json-bytes.js';
import { decodeRowGroup, fileFit, WASM_WHOLE_FILE_BYTES, type WasmArrowHooks } from './wasm-arrow.js';
import type { DerivedColumn } from '../../schema/derived.js';
import { withDerivedColumns } from './derived-batches.js';

const encoder = new TextEncoder();

/**
 * The answer of `q` in `format` when it is a broad read of columns the Arrow writers cover, else
 * null (the caller runs the column-array path). Throws on a bad query before any read. Files
 * larger than `maxFileBytes` are scanned: a streamed answer's memory is not checked against the
 * query's budget, so the caller sizes this from it (the file and wasm's copy of it are held).
 */
export function wasmJsonAnswer(engine: QueryEngine, q: QueryOptions, stats: QueryStats, format: RecordFormat, maxFileBytes = WASM_WHOLE_FILE_BYTES, hooks: Pick<WasmArrowHooks, 'onFile'> = {}): AsyncGenerator<Uint8Array> | null {
  const broad = engine.broadFiles(q, stats, maxFileBytes);
  if (broad === null) return null;
  const makers = broad.fields.map((f) => arrowJsonWriterFor(f.type));
  if (makers.some((m) => m === null)) return null;
  return write(new Schema([...broad.fields]), broad.derived, makers as RowWriterMaker[], broad.files, q.limit ?? Number.POSITIVE_INFINITY, stats, format, hooks);
}

async function* write(schema: Schema, derived: readonly DerivedColumn[], makers: readonly RowWriterMaker[], files: AsyncGenerator<BroadFile>, limit: number, stats: QueryStats, format: RecordFormat, hooks: Pick<WasmArrowHooks, 'onFile'>): AsyncGenerator<Uint8Array> {
  const columns = makers.length;
  const keys = schema.fields.map((f, i) => encoder.encode(`${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`));
  const open = encoder.encode('{');
  const close = encoder.encode(format === 'ndjson' ? '}\n' : '},');
  const out = new JsonBytes(BATCH_BYTES + (BATCH_BYTES >> 2));
  for await (const file of files) {
    const fit = file.whole === null ? null : fileFit(file.whole.bytes, schema, derived);
    const fits = fit !== null;
    hooks.onFile?.(file.key, fits ? 'wasm' : 'scan');
    if (!fits) {
      if (out.pos > 0) yield out.take();
      yield* jsonBatches({ fields: schema.fields, batches: file.scan() }, format);
      continue;
    }
    const { bytes, metadata } = file.whole!;
    for (let g = 0; g < metadata.row_groups.length && stats.rows_returned < limit; g++) {
      const groupRows = Number(metadata.row_groups[g]!.num_rows);
      const room = limit - stats.rows_returned;
      stats.row_groups_considered++;
      const ipc = decodeRowGroup(bytes, file.key, g, groupRows, room);
      for (const stored of tableFromIPC(ipc).batches) {
        // A file without the answer's derived columns (traces' end_time, version 3): added here.
        const batch = fit!.length === 0 ? stored : withDerivedColumns(stored, schema, fit!);
        const writers = makers.map((m, k) => m(batch.data.children[k]!));
        const rows = batch.numRows;
        for (let i = 0; i < rows; i++) {
          if (columns === 0) out.bytes(open);
          for (let k = 0; k < columns; k++) {
            out.bytes(keys[k]!);
            writers[k]!(out, i);
          }
          out.bytes(close);
          if (out.pos >= BATCH_BYTES) yield out.take();
        }
        stats.rows_scanned += rows;
        stats.rows_returned += rows;
      }
    }
  }
  if (out.pos > 0) yield out.take();
}
