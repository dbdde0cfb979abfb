/**
 * One query task, start to end, as a stream of answer bytes: what a query worker runs, and what
 * the query port runs in-process when it has no worker pool (library use, tests). One
 * implementation, so both answer byte for byte alike.
 */
import { tableFromJSON, tableToIPC } from 'apache-arrow';
import type { QueryEngine, QueryStats, Record_ } from '../engine.js';
import { jsonBatches } from '../columnar/json-batches.js';
import type { QueryTask } from './messages.js';

export interface ExecuteHooks {
  /** Called every few thousand records gathered in memory (arrow, trace); throws to stop. */
  readonly checkMemory?: () => void;
  /** Final stats known before the bytes (arrow: the whole result is gathered first). */
  readonly onStats?: (stats: QueryStats) => void;
}

const ARROW_CHUNK = 1024 * 1024;
const encoder = new TextEncoder();

export async function* execute(engine: QueryEngine, task: QueryTask, stats: QueryStats, hooks: ExecuteHooks = {}): AsyncGenerator<Uint8Array> {
  switch (task.kind) {
    case 'query': {
      if (task.format !== 'arrow') {
        yield* jsonBatches(engine.queryColumns(task.q, stats), task.format === 'json' ? 'json-items' : 'ndjson');
        return;
      }
      const records = engine.query(task.q, stats);
      // Arrow IPC needs one schema for the whole stream, inferred from every record (as the
      // buffered answer always did): gathered within the memory budget, then sent in chunks.
      const all = await gather(records, hooks.checkMemory);
      hooks.onStats?.(stats);
      const ipc = tableToIPC(tableFromJSON(all.length > 0 ? all : [{}]), 'stream');
      for (let i = 0; i < ipc.length; i += ARROW_CHUNK) yield ipc.slice(i, i + ARROW_CHUNK);
      return;
    }
    case 'files':
      yield* jsonBatches(engine.queryFilesColumns(task.q, task.files, stats), 'ndjson');
      return;
    case 'trace': {
      const q = { dataset: 'traces', filter: `trace_id = '${task.id}'`, ...(task.start !== undefined ? { start: task.start } : {}), ...(task.end !== undefined ? { end: task.end } : {}) };
      const spans = await gather(engine.query(q, stats), hooks.checkMemory);
      spans.sort((a, b) => String(a.start_time).localeCompare(String(b.start_time)));
      yield encoder.encode(JSON.stringify(spans));
      return;
    }
  }
}

async function gather(records: AsyncIterable<Record_>, checkMemory?: () => void): Promise<Record_[]> {
  const all: Record_[] = [];
  for await (const r of records) {
    all.push(r);
    if ((all.length & 4095) === 0) checkMemory?.();
  }
  return all;
}
