/**
 * One query task, start to end, as a stream of answer bytes: what a query worker runs, and what
 * the query port runs in-process when it has no worker pool (library use, tests). One
 * implementation, so both answer byte for byte alike.
 */
import type { QueryEngine, QueryStats, Record_ } from '../engine.js';
import { arrowBatches } from '../columnar/arrow-batches.js';
import { jsonBatches } from '../columnar/json-batches.js';
import { WASM_WHOLE_FILE_BYTES, wasmArrowAnswer } from '../columnar/wasm-arrow.js';
import { wasmJsonAnswer } from '../columnar/wasm-json.js';
import type { QueryTask } from './messages.js';

export interface ExecuteHooks {
  /**
   * Called as an answer is gathered in memory (arrow, trace), with the bytes it holds outside
   * the JS heap (Arrow buffers) if any; throws to stop.
   */
  readonly checkMemory?: (externalBytes?: number) => void;
  /** Final stats known before the bytes (arrow: the whole result is gathered first). */
  readonly onStats?: (stats: QueryStats) => void;
  /**
   * The query's memory budget ([query] max_memory_mb_per_query), where one applies: a streamed
   * broad read takes a file whole (and wasm copies it) only when it is at most a quarter of it.
   */
  readonly memoryBudgetBytes?: number;
}

const encoder = new TextEncoder();

export async function* execute(engine: QueryEngine, task: QueryTask, stats: QueryStats, hooks: ExecuteHooks = {}): AsyncGenerator<Uint8Array> {
  switch (task.kind) {
    case 'query': {
      if (task.format !== 'arrow') {
        // A broad read is decoded in wasm and written from the Arrow buffers; a filtered one is scanned.
        const format = task.format === 'json' ? 'json-items' : 'ndjson';
        const maxFileBytes = hooks.memoryBudgetBytes === undefined ? WASM_WHOLE_FILE_BYTES : Math.min(WASM_WHOLE_FILE_BYTES, Math.floor(hooks.memoryBudgetBytes / 4));
        yield* wasmJsonAnswer(engine, task.q, stats, format, maxFileBytes) ?? jsonBatches(engine.queryColumns(task.q, stats), format);
        return;
      }
      // One Arrow schema for the whole stream: the dataset's own types. Gathered within the memory
      // budget (the final stats go in a header before the bytes), then sent in chunks. A broad
      // read is decoded in wasm, straight into Arrow batches; a filtered one is scanned.
      const arrowHooks = { checkMemory: (bytes: number) => hooks.checkMemory?.(bytes), onGathered: () => hooks.onStats?.(stats) };
      const broad = wasmArrowAnswer(engine, task.q, stats, arrowHooks);
      if (broad) {
        yield* broad;
        return;
      }
      yield* arrowBatches(engine.queryColumns(task.q, stats), { checkMemory: (bytes) => hooks.checkMemory?.(bytes), onGathered: () => hooks.onStats?.(stats) });
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

async function gather(records: AsyncIterable<Record_>, checkMemory?: (externalBytes?: number) => void): Promise<Record_[]> {
  const all: Record_[] = [];
  for await (const r of records) {
    all.push(r);
    if ((all.length & 4095) === 0) checkMemory?.();
  }
  return all;
}
