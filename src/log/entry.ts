/**
 * The write log's objects: one JSON entry per flush under `_log/{dataset}/`, named
 * `{YYYYMMDDTHHMMSS.mmmZ}-{instance}-{seq}.json` so that a listing returns them in commit order
 * (the writer's clock, then the instance, then its sequence), and one checkpoint per dataset,
 * `_log/{dataset}.checkpoint.json`, whose presence says the log is complete.
 *
 * Both are versioned (`v`); a reader refuses a version it does not know rather than guess, and
 * a refused or unparsable object counts as damaged (the query port then lists partitions).
 *
 * Entry versions: 1 adds files; 2 may also remove files (`removed`: keys a compaction replaced
 * with the files it adds, in the same entry). A writer writes version 1 whenever nothing is
 * removed, so readers that know only version 1 keep reading what they can read correctly, and
 * refuse (list partitions instead) what they cannot. A file's optional `index` (the trace
 * index, src/parquet/trace-index.ts) is additive and needs no new version: a reader that does
 * not know it opens the file, as before. Likewise `removed_from` (per removed key, the entry that
 * added it) and a checkpoint file's `added_by`: additive, ignored by readers that do not know them.
 */
import { S3ParquetError } from '../errors.js';
import { FileIndex, type FileIndexJson } from '../parquet/contract.js';

export const LOG_ROOT = '_log';
/** The version written for entries that only add files. */
export const ENTRY_VERSION = 1;
/** The version written for entries that also remove files. */
export const ENTRY_VERSION_REMOVES = 2;
export const CHECKPOINT_VERSION = 1;

/** One file a flush (or the library) stored. Times are event times, ns since the epoch. */
export interface LoggedFile {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
  readonly minTimeNs: bigint;
  readonly maxTimeNs: bigint;
  /** The trace index of the file, when its writer recorded one (absent: open the file). */
  readonly index?: FileIndex;
  /**
   * The key of the entry that added the file, where a reader knows it (views; checkpoints keep
   * it as `added_by`). A compaction records it per removed file, so a changes cursor can tell
   * whether it already delivered the rows that moved.
   */
  readonly addedBy?: string;
}

export interface LogEntry {
  /** The entry's own key (`_log/{dataset}/…json`). */
  readonly logKey: string;
  readonly dataset: string;
  readonly instance: string;
  readonly seq: number;
  /** The writer's clock when it named the entry, ms since the epoch (also the key's time). */
  readonly timeMs: number;
  readonly files: readonly LoggedFile[];
  /** Keys of files this entry takes out of the dataset (replaced by `files`); usually none. */
  readonly removed: readonly string[];
  /** Per removed key, the entry that added it, where the compaction knew it (`removed_from`). */
  readonly removedFrom: Readonly<Record<string, string>>;
}

/**
 * A compaction's entries carry `c` before their sequence number (`…-{instance}-c00000007.json`),
 * so a changes read tells them from flushes by their key alone and reads only those ahead.
 */
export function isCompactionEntryKey(logKey: string): boolean {
  return /-c\d{8}\.json$/.test(logKey);
}

/**
 * Says the log of a dataset is complete: every file that existed at `throughMs` is in `files`
 * or in an entry whose time is >= `throughMs`. Written by `log rebuild` (from a listing) and at
 * startup for an empty dataset; deleted by a writer whose append failed.
 */
export interface Checkpoint {
  readonly dataset: string;
  readonly throughMs: number;
  readonly writtenBy: string;
  readonly files: readonly LoggedFile[];
}

/** `20240101T000512.123Z`: sortable as text, millisecond precision. */
export function sortableUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

const KEY_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z-/;

export function entryPrefix(dataset: string): string {
  return `${LOG_ROOT}/${dataset}/`;
}

export function checkpointKey(dataset: string): string {
  return `${LOG_ROOT}/${dataset}.checkpoint.json`;
}

export function entryKey(dataset: string, timeMs: number, instance: string, seq: number, compaction = false): string {
  return `${entryPrefix(dataset)}${sortableUtc(timeMs)}-${instance}-${compaction ? 'c' : ''}${String(seq).padStart(8, '0')}.json`;
}

/** The time in an entry key, or null when the key is not an entry's. */
export function entryKeyTime(logKey: string): number | null {
  const name = logKey.slice(logKey.lastIndexOf('/') + 1);
  const m = KEY_TIME.exec(name);
  if (!m || !name.endsWith('.json')) return null;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
  return Number.isNaN(ms) ? null : ms;
}

interface FileJson {
  key: string;
  rows: number;
  bytes: number;
  min_time_ns: string;
  max_time_ns: string;
  index?: FileIndexJson;
  added_by?: string;
}

function fileToJson(f: LoggedFile): FileJson {
  const j: FileJson = { key: f.key, rows: f.rows, bytes: f.bytes, min_time_ns: f.minTimeNs.toString(), max_time_ns: f.maxTimeNs.toString() };
  if (f.index) j.index = f.index.toJSON();
  if (f.addedBy !== undefined) j.added_by = f.addedBy;
  return j;
}

function fileFromJson(j: unknown, dataset: string): LoggedFile {
  const f = j as Partial<FileJson> | null;
  if (typeof f !== 'object' || f === null) throw new Error('a file is not an object');
  if (typeof f.key !== 'string' || !f.key.startsWith(`${dataset}/`) || !f.key.endsWith('.parquet')) throw new Error(`file key ${JSON.stringify(f.key)} is not a Parquet file of ${dataset}`);
  if (!Number.isSafeInteger(f.rows) || f.rows! < 0 || !Number.isSafeInteger(f.bytes) || f.bytes! < 0) throw new Error(`file ${f.key}: rows and bytes must be whole numbers`);
  if (typeof f.min_time_ns !== 'string' || !/^-?\d+$/.test(f.min_time_ns) || typeof f.max_time_ns !== 'string' || !/^-?\d+$/.test(f.max_time_ns)) {
    throw new Error(`file ${f.key}: min_time_ns and max_time_ns must be integer strings`);
  }
  // A malformed index is dropped, not fatal: the file is then opened, as one without an index.
  const index = f.index === undefined ? null : FileIndex.fromJson(f.index);
  const addedBy = typeof f.added_by === 'string' ? { addedBy: f.added_by } : {};
  return { key: f.key, rows: f.rows!, bytes: f.bytes!, minTimeNs: BigInt(f.min_time_ns), maxTimeNs: BigInt(f.max_time_ns), ...(index ? { index } : {}), ...addedBy };
}

function removedFromJson(j: unknown, dataset: string): string[] {
  if (j === undefined) return [];
  if (!Array.isArray(j)) throw new Error('"removed" is not an array');
  for (const k of j) {
    if (typeof k !== 'string' || !k.startsWith(`${dataset}/`) || !k.endsWith('.parquet')) throw new Error(`removed key ${JSON.stringify(k)} is not a Parquet file of ${dataset}`);
  }
  return j as string[];
}

function removedFromFromJson(j: unknown, removed: readonly string[]): Record<string, string> {
  if (j === undefined || j === null || typeof j !== 'object' || Array.isArray(j)) return {};
  const out: Record<string, string> = {};
  const names = new Set(removed);
  // Malformed pairs are dropped: the reader then treats that file's rows as already delivered.
  for (const [k, v] of Object.entries(j as Record<string, unknown>)) if (names.has(k) && typeof v === 'string') out[k] = v;
  return out;
}

export function encodeEntry(
  e: Omit<LogEntry, 'logKey' | 'removed' | 'removedFrom'> & { readonly removed?: readonly string[]; readonly removedFrom?: Readonly<Record<string, string>> },
): Uint8Array {
  const removed = e.removed ?? [];
  const removedFrom = e.removedFrom ?? {};
  const json = {
    v: removed.length > 0 ? ENTRY_VERSION_REMOVES : ENTRY_VERSION,
    dataset: e.dataset,
    instance: e.instance,
    seq: e.seq,
    time: new Date(e.timeMs).toISOString(),
    files: e.files.map(fileToJson),
    ...(removed.length > 0 ? { removed } : {}),
    ...(removed.length > 0 && Object.keys(removedFrom).length > 0 ? { removed_from: removedFrom } : {}),
  };
  return new TextEncoder().encode(JSON.stringify(json));
}

/** Parses an entry; throws STORE_FAILED naming the key and the problem when it is damaged. */
export function decodeEntry(logKey: string, dataset: string, body: Uint8Array): LogEntry {
  try {
    const j = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    if (j.v !== ENTRY_VERSION && j.v !== ENTRY_VERSION_REMOVES) throw new Error(`unknown version ${JSON.stringify(j.v)}`);
    if (j.dataset !== dataset) throw new Error(`dataset ${JSON.stringify(j.dataset)} is not ${dataset}`);
    if (!Array.isArray(j.files)) throw new Error('"files" is not an array');
    if (j.v === ENTRY_VERSION && j.removed !== undefined) throw new Error('"removed" needs version 2');
    const timeMs = entryKeyTime(logKey);
    if (timeMs === null) throw new Error('the key carries no time');
    const removed = removedFromJson(j.removed, dataset);
    const removedFrom = removedFromFromJson(j.removed_from, removed);
    return { logKey, dataset, instance: String(j.instance), seq: Number(j.seq), timeMs, files: j.files.map((f) => fileFromJson(f, dataset)), removed, removedFrom };
  } catch (err) {
    throw new S3ParquetError('STORE_FAILED', `write log entry ${logKey} is damaged: ${(err as Error).message}`, { cause: err });
  }
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const json = { v: CHECKPOINT_VERSION, dataset: c.dataset, through: new Date(c.throughMs).toISOString(), through_ms: c.throughMs, written_by: c.writtenBy, files: c.files.map(fileToJson) };
  return new TextEncoder().encode(JSON.stringify(json));
}

export function decodeCheckpoint(dataset: string, body: Uint8Array): Checkpoint {
  try {
    const j = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    if (j.v !== CHECKPOINT_VERSION) throw new Error(`unknown version ${JSON.stringify(j.v)}`);
    if (j.dataset !== dataset) throw new Error(`dataset ${JSON.stringify(j.dataset)} is not ${dataset}`);
    if (!Number.isSafeInteger(j.through_ms)) throw new Error('"through_ms" is not a whole number');
    if (!Array.isArray(j.files)) throw new Error('"files" is not an array');
    return { dataset, throughMs: j.through_ms as number, writtenBy: String(j.written_by), files: j.files.map((f) => fileFromJson(f, dataset)) };
  } catch (err) {
    throw new S3ParquetError('STORE_FAILED', `write log checkpoint ${checkpointKey(dataset)} is damaged: ${(err as Error).message}`, { cause: err });
  }
}
