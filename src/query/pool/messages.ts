/**
 * What the query port's main thread and its query workers say to each other. A task names the
 * work; the worker answers on the task's own MessagePort: batches of answer bytes (each
 * acknowledged by the main thread once written to the socket — the backpressure), then `end`
 * with the query's stats, or `error`.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Config } from '../../config/index.js';
import type { ErrorCode } from '../../errors.js';
import type { FileQueryOptions, FileRef, QueryOptions, QueryStats } from '../engine.js';

export type QueryTask =
  /** A query's records: NDJSON lines, JSON array items (`json`), or one Arrow IPC stream. */
  | { readonly kind: 'query'; readonly q: QueryOptions; readonly format: 'ndjson' | 'json' | 'arrow' }
  /** Records of known files (a changes read), as NDJSON. */
  | { readonly kind: 'files'; readonly q: FileQueryOptions; readonly files: readonly FileRef[] }
  /** A trace's spans sorted by start time, as one JSON array. */
  | { readonly kind: 'trace'; readonly id: string; readonly start?: bigint; readonly end?: bigint };

export interface WorkerTask {
  readonly task: QueryTask;
  readonly port: MessagePort;
  /** The worker's heap may hold this much while the query runs ([query] max_memory_mb_per_query). */
  readonly memoryBudgetBytes: number;
  /** Partitions deleted lately (on the main thread): footers a worker cached under them are stale. */
  readonly deleted: DeletedPrefixes;
}

/** The last few deleted prefixes, numbered; a worker that missed older ones forgets everything. */
export interface DeletedPrefixes {
  /** Number of the first entry of `prefixes` (deletions are numbered from 1). */
  readonly first: number;
  readonly prefixes: readonly string[];
}

/** A store request a worker made, replayed on the main thread into the daemon's store metrics. */
export interface StoreCall {
  readonly operation: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

/** Every message carries the store requests made since the previous one. */
export type WorkerMessage = { readonly store: readonly StoreCall[] } & (
  /** Answer bytes, with the query's stats so far (rows counted as they go). */
  | { readonly t: 'batch'; readonly bytes: Uint8Array; readonly stats: QueryStats }
  /** Final stats sent ahead of the bytes (arrow), for a header. */
  | { readonly t: 'stats'; readonly stats: QueryStats }
  | { readonly t: 'end'; readonly stats: QueryStats }
  | { readonly t: 'error'; readonly code: ErrorCode; readonly message: string }
);

/** The main thread's acknowledgement of a batch. */
export interface AckMessage {
  readonly t: 'ack';
}

/** What every worker is started with (piscina's workerData). */
export interface WorkerInit {
  readonly config: Config;
  readonly instanceId: string;
}

/** Batches a worker may have sent but not yet seen acknowledged. */
export const BATCHES_IN_FLIGHT = 2;
