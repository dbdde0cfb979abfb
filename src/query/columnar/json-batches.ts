/**
 * A query's column batches → answer bytes in batches of about `BATCH_BYTES`: NDJSON lines, or
 * the comma-separated items of a JSON array. Each row is written from the column arrays into
 * one reused byte buffer (no record object, no string per row), byte for byte what
 * `recordBatches` (src/query/serialise.ts) writes for the same records. A batch is a
 * `Uint8Array` of its own, so it can be transferred to another thread without a copy.
 */
import type { ColumnAnswer } from '../engine.js';
import type { RecordFormat } from '../serialise.js';
import { ColumnCursor } from './column-cursor.js';
import { JsonBytes } from './json-bytes.js';
import { jsonWriterFor } from './json-writers.js';

/** Bytes gathered before a batch is handed on: big enough to amortise a message, small enough to stream. */
export const BATCH_BYTES = 256 * 1024;

const encoder = new TextEncoder();

export async function* jsonBatches(answer: ColumnAnswer, format: RecordFormat): AsyncGenerator<Uint8Array> {
  const names = answer.fields.map((f) => f.name);
  const keys = names.map((n, i) => encoder.encode(`${i === 0 ? '{' : ','}${JSON.stringify(n)}:`));
  const writers = answer.fields.map((f) => jsonWriterFor(f.type));
  const cursors = names.map((n) => new ColumnCursor(n));
  const open = encoder.encode('{');
  const close = encoder.encode(format === 'ndjson' ? '}\n' : '},');
  const out = new JsonBytes(BATCH_BYTES + (BATCH_BYTES >> 2));
  const columns = names.length;
  for await (const { data, rows } of answer.batches) {
    for (const c of cursors) c.reset(data);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (columns === 0) out.bytes(open);
      for (let k = 0; k < columns; k++) {
        out.bytes(keys[k]!);
        writers[k]!(out, cursors[k]!.at(row));
      }
      out.bytes(close);
      if (out.pos >= BATCH_BYTES) yield out.take();
    }
  }
  if (out.pos > 0) yield out.take();
}
