/**
 * Records → answer bytes in batches: NDJSON lines, or the comma-separated items of a JSON
 * array. Shared by the query workers and the CLI, so both print records the same way. A batch
 * is one `Uint8Array` of its own (never Node's pooled buffer), so it can be transferred to
 * another thread without a copy.
 */
import type { Record_ } from './engine.js';

/** Text gathered before a batch is handed on: big enough to amortise a message, small enough to stream. */
export const BATCH_CHARS = 256 * 1024;

const encoder = new TextEncoder();

export type RecordFormat = 'ndjson' | 'json-items';

/**
 * Batches of `records`, each `BATCH_CHARS` of text or so: NDJSON ends every record with a
 * newline; `json-items` ends every record with a comma (the caller drops the last one).
 */
export async function* recordBatches(records: AsyncIterable<Record_>, format: RecordFormat, onBatch?: (rows: number) => void): AsyncGenerator<Uint8Array> {
  const sep = format === 'ndjson' ? '\n' : ',';
  let text = '';
  let rows = 0;
  for await (const rec of records) {
    text += JSON.stringify(rec) + sep;
    rows++;
    if (text.length >= BATCH_CHARS) {
      onBatch?.(rows);
      yield encoder.encode(text);
      text = '';
      rows = 0;
    }
  }
  if (text.length > 0) {
    onBatch?.(rows);
    yield encoder.encode(text);
  }
}
