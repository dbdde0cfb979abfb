/**
 * Where the read APIs (Tempo, Jaeger) and the web UI's summaries get their records: the query
 * engine's `query` and `catalog`, and nothing else. In a daemon the records come from the query
 * worker pool (src/query/pool), so these routes share its bounds with `/api/v1/query` — the
 * concurrency limit (429), the deadline, the memory budget, and a client that leaves stopping
 * its worker; a library embedding the query port without a pool uses the engine itself.
 *
 * `catalog` is the engine's, on this thread: column metadata from the dataset schemas and the
 * promoted-attribute configuration, built when the engine is made — it reads no files.
 */
import type { ServerResponse } from 'node:http';
import type { DatasetCatalog } from './catalog.js';
import { emptyStats, type QueryOptions, type QueryStats, type Record_ } from './engine.js';
import type { QueryPool } from './pool/query-pool.js';

export interface RecordSource {
  /**
   * A query's records. `stats` is added to as the query runs (rows as records come, the read
   * counts by its end), so one stats object may sum several queries. Stopping early (`break`)
   * stops the query.
   */
  query(q: QueryOptions, stats?: QueryStats): AsyncIterable<Record_>;
  /** A dataset's column catalog (in memory); an unknown dataset is an INVALID_ARGUMENT. */
  catalog(dataset: string): DatasetCatalog;
}

/** The record source for one request; `signal` aborts when its client has gone. */
export type RecordSourceFor = (signal: AbortSignal) => RecordSource;

/** Aborts when the client goes before the answer is complete. */
export function clientGone(res: ServerResponse): AbortSignal {
  const c = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) c.abort();
  });
  return c.signal;
}

/**
 * Records from the worker pool: each query is one pool task (admitted, or TOO_MANY_QUERIES),
 * streamed back as NDJSON batches and parsed here — the records are JSON values, so the round
 * trip is exact. The worker sends its stats with every batch, so bounds on rows scanned hold
 * while the query runs, as in-process.
 */
export function poolRecordSource(pool: QueryPool, catalogs: { catalog(dataset: string): DatasetCatalog }, signal?: AbortSignal): RecordSource {
  return {
    catalog: (dataset) => catalogs.catalog(dataset),
    query: (q, stats = emptyStats()) => poolRecords(pool, q, stats, signal),
  };
}

async function* poolRecords(pool: QueryPool, q: QueryOptions, stats: QueryStats, signal: AbortSignal | undefined): AsyncGenerator<Record_> {
  // The worker's stats so far; the caller's object gets each change added.
  let seen = emptyStats();
  const take = (now: QueryStats): void => {
    for (const k of Object.keys(stats) as (keyof QueryStats)[]) stats[k] += (now[k] ?? 0) - seen[k];
    seen = { ...now };
  };
  const stream = pool.stream({ kind: 'query', q, format: 'ndjson' }, { ...(signal ? { signal } : {}), onProgress: take });
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const r = await stream.next();
      if (r.done) {
        take(r.value);
        return;
      }
      // A batch holds whole lines (serialise.ts), each one record.
      const text = decoder.decode(r.value);
      let at = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', at)) {
        const line = text.slice(at, nl);
        at = nl + 1;
        if (line !== '') yield JSON.parse(line) as Record_;
      }
    }
  } finally {
    // Stopped early (the caller broke off, or failed): the pool frees the worker.
    await stream.return(emptyStats()).catch(() => undefined);
  }
}
