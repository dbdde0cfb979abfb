/**
 * The write log of a store: who wrote which Parquet files, in commit order, so that readers find
 * files without listing partitions and consumers read only what is new (see docs/write-log.md).
 *
 * Store-agnostic: everything goes through the ObjectStore interface. Entries are immutable, so
 * parsed ones are cached (bounded); the checkpoint is re-read only when its size or date changes.
 */
import { randomBytes } from 'node:crypto';
import { S3ParquetError, toS3ParquetError } from '../errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { advanceCursor, beginningCursor, decodeCursor, encodeCursor, entryHash, type Cursor } from './cursor.js';
import {
  checkpointKey, decodeCheckpoint, decodeEntry, encodeCheckpoint, encodeEntry, entryKey, entryKeyTime, entryPrefix, isCompactionEntryKey, sortableUtc,
  type Checkpoint, type LogEntry, type LoggedFile,
} from './entry.js';

export const DEFAULT_SETTLE_WINDOW_MS = 30_000;
/** Entries delivered by one `changes` read unless told otherwise. */
export const DEFAULT_MAX_ENTRIES_PER_READ = 1000;
/** Files per entry written by `rebuild` (keeps each entry a few hundred KiB at most). */
const REBUILD_FILES_PER_ENTRY = 1000;
/** S3 answers a listing 1000 keys a page: how LIST requests are counted. */
export const LIST_PAGE_KEYS = 1000;

export function listPages(keys: number): number {
  return Math.max(1, Math.ceil(keys / LIST_PAGE_KEYS));
}

export interface WriteLogOptions {
  readonly store: ObjectStore;
  /** Names this writer's entries; unique per running writer (the daemon's instance id). */
  readonly instanceId: string;
  /** The clock (ms), injectable for tests. */
  readonly now?: () => number;
  /** How far a writer's clock may lag a reader's (plus an append's duration), ms. */
  readonly settleWindowMs?: number;
  readonly entryCacheEntries?: number;
  /** Told when an append fails (the entry is kept and retried; the checkpoint is dropped). */
  readonly onAppendFailed?: (err: Error, dataset: string, files: readonly LoggedFile[]) => void;
  /**
   * When a complete view has more entries than this after its checkpoint, a new checkpoint
   * folding them in is written (so readers keep listing and reading little); 0 never does.
   */
  readonly compactAfterEntries?: number;
  /** Reads what a file holds (rows, event-time range) for `rebuild`; see log/describe.ts. */
  readonly describeFile?: (key: string, size: number) => Promise<LoggedFile>;
}

/** What a reader finds in a dataset's log: the complete file set, or why it cannot be trusted. */
export type LogView =
  | { readonly complete: true; readonly files: readonly LoggedFile[]; readonly entries: number; readonly listRequests: number }
  | { readonly complete: false; readonly reason: string; readonly listRequests: number };

export interface Changes {
  /** New files, in log order, each once. */
  readonly files: readonly LoggedFile[];
  /** Keys of files the delivered entries took out of the dataset (a compaction replaced them). */
  readonly removed: readonly string[];
  /** Keys of the log entries delivered. */
  readonly entries: readonly string[];
  /** Damaged entries skipped (their files come back through `log rebuild`). */
  readonly damaged: readonly string[];
  /** Whether more entries are waiting (the read was capped by `maxEntries`). */
  readonly more: boolean;
  readonly nextCursor: string;
}

export interface RebuildResult {
  readonly dataset: string;
  /** Parquet files the listing found. */
  readonly files: number;
  /** Of them, files no readable entry named: recorded in new entries. */
  readonly recorded: number;
  readonly entriesWritten: number;
  /** Damaged entries found and deleted (their files are in the new entries). */
  readonly damagedRemoved: number;
  readonly throughMs: number;
}

export interface AppendOptions {
  /** Keys of files the entry takes out of the dataset (a compaction's inputs). */
  readonly removed?: readonly string[];
  /** Per removed key, the entry that added it (see `LoggedFile.addedBy`). */
  readonly removedFrom?: Readonly<Record<string, string>>;
  /** Names the entry as a compaction's (`isCompactionEntryKey`). */
  readonly compaction?: boolean;
  /**
   * The entry's time is at least this (ms): a compaction's entry must sort after the entries of
   * the files it removes even when their writer's clock runs ahead of ours, or a view would
   * apply the removal before the addition and keep the file.
   */
  readonly notBeforeMs?: number;
}

interface Pending {
  readonly dataset: string;
  readonly files: readonly LoggedFile[];
}

export class WriteLog {
  readonly settleWindowMs: number;
  private readonly now: () => number;
  private seq = 0;
  private readonly cache = new Map<string, LogEntry>();
  private readonly checkpoints = new Map<string, { size: number; modified: number; checkpoint: Checkpoint }>();
  private pending: Pending[] = [];

  constructor(private readonly o: WriteLogOptions) {
    this.now = o.now ?? Date.now;
    this.settleWindowMs = o.settleWindowMs ?? DEFAULT_SETTLE_WINDOW_MS;
  }

  /** Entries waiting for a retry after a failed append. */
  get pendingEntries(): number {
    return this.pending.length;
  }

  /**
   * Writes one entry naming `files` (already complete in the store) and returns its key.
   * Throws when the store refuses; `record` is the variant that never throws.
   */
  async append(dataset: string, files: readonly LoggedFile[], options: AppendOptions = {}): Promise<string> {
    const removed = options.removed ?? [];
    if (files.length === 0 && removed.length === 0) throw new S3ParquetError('INVALID_ARGUMENT', 'a write log entry needs at least one file');
    for (const key of [...files.map((f) => f.key), ...removed]) {
      if (!key.startsWith(`${dataset}/`) || !key.endsWith('.parquet')) throw new S3ParquetError('INVALID_ARGUMENT', `file ${JSON.stringify(key)} is not a Parquet file of dataset ${dataset}`);
    }
    const timeMs = Math.max(this.now(), options.notBeforeMs ?? 0);
    const seq = this.seq++;
    const key = entryKey(dataset, timeMs, this.o.instanceId, seq, options.compaction === true);
    const stored = files.map(({ addedBy: _, ...f }) => f);
    await this.o.store.put(key, encodeEntry({ dataset, instance: this.o.instanceId, seq, timeMs, files: stored, removed, ...(options.removedFrom ? { removedFrom: options.removedFrom } : {}) }));
    return key;
  }

  /**
   * Records files after they were written, never failing the caller: entries that failed before
   * are retried first; when an append fails, the dataset's checkpoint is deleted (so readers list
   * partitions instead of trusting an incomplete log) and the entry is kept for the next call.
   * Safe to call concurrently (each entry is appended once). Returns whether nothing is pending.
   */
  async record(dataset: string, files: readonly LoggedFile[]): Promise<boolean> {
    if (files.length > 0 && this.pending.length === 0 && !this.draining) {
      try {
        await this.append(dataset, files);
        return true;
      } catch (err) {
        this.pending.push({ dataset, files });
        await this.appendFailed(err, dataset, files);
        return false;
      }
    }
    if (files.length > 0) this.pending.push({ dataset, files });
    return this.retryPending();
  }

  /** Retries entries whose append failed, one at a time; true when none is left. */
  async retryPending(): Promise<boolean> {
    await (this.draining ??= this.drain().finally(() => (this.draining = undefined)));
    return this.pending.length === 0;
  }

  private draining: Promise<void> | undefined;

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      try {
        await this.append(p.dataset, p.files);
        this.pending.shift();
      } catch (err) {
        await this.appendFailed(err, p.dataset, p.files);
        return;
      }
    }
  }

  /**
   * Drops the checkpoints of datasets with kept entries — in the background: the store just
   * failed, and a flush should not wait for a second timeout (while the store is down no reader
   * sees anything anyway; once it is back, the next flush retries the kept entry first).
   */
  private async appendFailed(e: unknown, dataset: string, files: readonly LoggedFile[]): Promise<void> {
    this.o.onAppendFailed?.(toS3ParquetError(e), dataset, files);
    const datasets = [...new Set(this.pending.map((x) => x.dataset))];
    const drop = Promise.all(datasets.map((d) => this.o.store.delete([checkpointKey(d)]).catch(() => undefined))).then(() => this.checkpoints.clear());
    this.invalidating = Promise.all([this.invalidating, drop]).then(() => undefined);
    this.checkpoints.clear();
  }

  private invalidating: Promise<void> = Promise.resolve();

  /** For shutdown: retries kept entries and waits for checkpoint deletions; true when nothing is kept. */
  async settle(): Promise<boolean> {
    const ok = await this.retryPending();
    await this.invalidating;
    return ok;
  }

  /** The dataset's checkpoint, or null when there is none; throws STORE_FAILED when damaged. */
  async checkpoint(dataset: string): Promise<Checkpoint | null> {
    const key = checkpointKey(dataset);
    const info = await this.o.store.head(key);
    if (!info) {
      this.checkpoints.delete(dataset);
      return null;
    }
    const cached = this.checkpoints.get(dataset);
    if (cached && cached.size === info.size && cached.modified === info.lastModified.getTime()) return cached.checkpoint;
    let body: Uint8Array;
    try {
      body = await this.o.store.get(key);
    } catch (err) {
      if (!(await this.o.store.head(key))) return null; // deleted between the two requests
      throw err;
    }
    const checkpoint = decodeCheckpoint(dataset, body);
    this.checkpoints.set(dataset, { size: info.size, modified: info.lastModified.getTime(), checkpoint });
    return checkpoint;
  }

  private async writeCheckpoint(c: Checkpoint): Promise<void> {
    await this.o.store.put(checkpointKey(c.dataset), encodeCheckpoint(c));
    this.checkpoints.delete(c.dataset);
  }

  /**
   * Entry keys with a time at or after `sinceMs` (all when omitted), in key order, with the
   * number of LIST requests that took (as S3 pages them).
   */
  async listKeys(dataset: string, sinceMs?: number): Promise<{ keys: { logKey: string; timeMs: number }[]; listRequests: number }> {
    const prefix = entryPrefix(dataset);
    const startAfter = sinceMs === undefined ? undefined : prefix + sortableUtc(Math.max(0, sinceMs));
    const keys: { logKey: string; timeMs: number }[] = [];
    let seen = 0;
    for await (const info of this.o.store.list(prefix, startAfter === undefined ? undefined : { startAfter })) {
      seen++;
      if (startAfter !== undefined && info.key <= startAfter) continue; // a store that ignores startAfter
      const timeMs = entryKeyTime(info.key);
      if (timeMs === null || info.key.slice(prefix.length).includes('/')) continue; // not an entry
      keys.push({ logKey: info.key, timeMs });
    }
    return { keys, listRequests: listPages(seen) };
  }

  /** Reads one entry (cached); throws STORE_FAILED when it is damaged or gone. */
  async read(dataset: string, logKey: string): Promise<LogEntry> {
    const hit = this.cache.get(logKey);
    if (hit) return hit;
    let body: Uint8Array;
    try {
      body = await this.o.store.get(logKey);
    } catch (err) {
      if (await this.o.store.head(logKey)) throw err; // a store failure, not a missing entry
      throw new S3ParquetError('STORE_FAILED', `write log entry ${logKey} is damaged: it was listed but cannot be read`, { cause: err });
    }
    const entry = decodeEntry(logKey, dataset, body);
    this.cache.set(logKey, entry);
    if (this.cache.size > (this.o.entryCacheEntries ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  /** Reads entries, sorting the damaged ones out (store failures still throw). */
  private async readAll(dataset: string, keys: readonly string[]): Promise<{ entries: LogEntry[]; damaged: string[] }> {
    const entries: LogEntry[] = [];
    const damaged: string[] = [];
    for (const key of keys) {
      try {
        entries.push(await this.read(dataset, key));
      } catch (err) {
        if (err instanceof S3ParquetError && /is damaged/.test(err.message)) damaged.push(key);
        else throw err;
      }
    }
    return { entries, damaged };
  }

  /**
   * The files of a dataset as the log knows them: the checkpoint's plus those of every entry
   * from its time on. Incomplete (so the caller lists partitions) without a checkpoint, or when
   * the checkpoint or an entry is damaged.
   */
  async view(dataset: string): Promise<LogView> {
    let cp: Checkpoint | null;
    try {
      cp = await this.checkpoint(dataset);
    } catch (err) {
      return { complete: false, reason: (err as Error).message, listRequests: 0 };
    }
    if (!cp) return { complete: false, reason: `the write log of ${dataset} has no checkpoint (run "log rebuild")`, listRequests: 0 };
    const { keys, listRequests } = await this.listKeys(dataset, cp.throughMs);
    const { entries, damaged } = await this.readAll(dataset, keys.map((k) => k.logKey));
    if (damaged.length > 0) return { complete: false, reason: `write log entry ${damaged[0]} is damaged`, listRequests };
    const files = new Map<string, LoggedFile>();
    for (const f of cp.files) files.set(f.key, f);
    for (const e of entries) applyEntry(files, e);
    const all = [...files.values()];
    const threshold = this.o.compactAfterEntries ?? 0;
    if (threshold > 0 && entries.length > threshold) await this.compact(dataset, cp, all);
    return { complete: true, files: all, entries: entries.length, listRequests };
  }

  /**
   * Folds the entries a complete view read into a new checkpoint. Its time is now minus the
   * settle window, so every entry older than that was visible to the view. Skipped when the
   * checkpoint changed or vanished meanwhile (a writer whose append failed deletes it, and that
   * must win); a failure only means the next view compacts.
   */
  private async compact(dataset: string, read: Checkpoint, files: readonly LoggedFile[]): Promise<void> {
    const throughMs = this.now() - this.settleWindowMs;
    if (throughMs <= read.throughMs) return;
    try {
      const current = await this.checkpoint(dataset);
      if (current !== read) return;
      await this.writeCheckpoint({ dataset, throughMs, writtenBy: this.o.instanceId, files });
    } catch {
      // the next view tries again
    }
  }

  /**
   * What is new in a dataset's log since `cursor` (from the beginning without one): the files
   * of entries not delivered yet, and the cursor to pass next time. See cursor.ts for why a
   * writer whose clock lags by less than the settle window is never skipped.
   */
  async changes(dataset: string, cursor?: string, options: { readonly maxEntries?: number } = {}): Promise<Changes> {
    const prev: Cursor = cursor === undefined || cursor === '' ? beginningCursor(dataset) : decodeCursor(cursor, dataset);
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES_PER_READ;
    if (!Number.isInteger(max) || max < 1) throw new S3ParquetError('INVALID_ARGUMENT', `maxEntries must be a whole number >= 1, got ${max}`);
    const nowMs = this.now();
    const { keys } = await this.listKeys(dataset, prev.watermarkMs);
    const consumed = new Set(prev.consumed);
    const fresh = keys.filter((k) => k.timeMs >= prev.watermarkMs && !consumed.has(entryHash(k.logKey)));
    const moves = await this.plannedMoves(dataset, prev, consumed, fresh);
    // A file that a compaction ahead replaces is delivered through that compaction's files, so
    // the two must come in one read: extend the read to the compaction (past `max` if need be).
    let end = Math.min(max, fresh.length);
    const index = new Map(fresh.map((k, i) => [k.logKey, i]));
    for (let i = 0; i < end; i++) {
      const e = await this.readOrNull(dataset, fresh[i]!.logKey);
      for (const f of e?.files ?? []) {
        const by = moves.supersededBy.get(f.key);
        if (by !== undefined) end = Math.max(end, (index.get(by) ?? 0) + 1);
      }
    }
    const taken = fresh.slice(0, end);
    const { entries, damaged } = await this.readAll(dataset, taken.map((k) => k.logKey));
    const seen = new Set<string>();
    const files: LoggedFile[] = [];
    const removed: string[] = [];
    for (const e of entries) {
      removed.push(...e.removed);
      // A compaction's files hold rows the reader already has (moved), unless it had none of them.
      if (e.removed.length > 0 && !moves.deliver.has(e.logKey)) continue;
      for (const f of e.files) {
        if (seen.has(f.key) || moves.supersededBy.has(f.key)) continue;
        seen.add(f.key);
        files.push(f);
      }
    }
    const left = fresh[end];
    const next = advanceCursor(prev, {
      listed: keys,
      delivered: new Set(taken.map((k) => k.logKey)),
      nowMs,
      settleMs: this.settleWindowMs,
      ...(left ? { firstLeftMs: left.timeMs } : {}),
    });
    return { files, removed, entries: entries.map((e) => e.logKey), damaged, more: left !== undefined, nextCursor: encodeCursor(next) };
  }

  /**
   * How a changes read treats compactions not yet delivered. A compaction's files are delivered
   * (`deliver`) when the reader had received none of the rows they hold — every removed file's
   * adding entry is still ahead of its cursor — and then those removed files are not
   * (`supersededBy`: removed key → the compaction). Otherwise its files are moved rows, skipped,
   * and the removed files ahead of the cursor (if any) are delivered as they are: they exist
   * until `delete_grace_seconds` after the compaction (a reader further behind than that, in the
   * middle of a partition's compaction, misses those rows; docs/compaction.md).
   */
  private async plannedMoves(
    dataset: string,
    prev: Cursor,
    consumed: ReadonlySet<string>,
    fresh: readonly { logKey: string; timeMs: number }[],
  ): Promise<{ deliver: Set<string>; supersededBy: Map<string, string> }> {
    const deliver = new Set<string>();
    const supersededBy = new Map<string, string>();
    const ahead = (logKey: string | undefined): boolean => {
      if (logKey === undefined) return false;
      const t = entryKeyTime(logKey);
      return t !== null && t >= prev.watermarkMs && !consumed.has(entryHash(logKey));
    };
    for (const k of fresh) {
      if (!isCompactionEntryKey(k.logKey)) continue;
      const e = await this.readOrNull(dataset, k.logKey);
      if (!e || e.removed.length === 0) continue;
      // A removed file an earlier compaction added holds wholly new rows only when that
      // compaction is delivered itself (else some of its rows came through its own inputs).
      const isNew = (r: string): boolean => {
        const from = e.removedFrom[r];
        return ahead(from) && (!isCompactionEntryKey(from!) || deliver.has(from!));
      };
      if (!e.removed.every(isNew)) continue;
      deliver.add(e.logKey);
      for (const r of e.removed) supersededBy.set(r, e.logKey);
    }
    return { deliver, supersededBy };
  }

  private async readOrNull(dataset: string, logKey: string): Promise<LogEntry | null> {
    try {
      return await this.read(dataset, logKey);
    } catch (err) {
      if (err instanceof S3ParquetError && /is damaged/.test(err.message)) return null;
      throw err;
    }
  }

  /** A cursor past everything in the log now (for consumers that want only what comes next). */
  async endCursor(dataset: string): Promise<string> {
    const prev = beginningCursor(dataset);
    const nowMs = this.now();
    const { keys } = await this.listKeys(dataset);
    const delivered = new Set(keys.map((k) => k.logKey));
    return encodeCursor(advanceCursor(prev, { listed: keys, delivered, nowMs, settleMs: this.settleWindowMs }));
  }

  /**
   * At startup: a dataset with no checkpoint and no Parquet file yet starts with an empty
   * checkpoint, so its log is complete from the first file on. Returns the log's state.
   */
  async initialize(dataset: string): Promise<'complete' | 'created' | 'incomplete'> {
    if (await this.o.store.head(checkpointKey(dataset))) return 'complete';
    const throughMs = this.now() - this.settleWindowMs;
    for await (const info of this.o.store.list(`${dataset}/`)) if (info.key.endsWith('.parquet')) return 'incomplete';
    await this.writeCheckpoint({ dataset, throughMs, writtenBy: this.o.instanceId, files: [] });
    return 'created';
  }

  /**
   * Rebuilds a dataset's log from a listing: files no readable entry names are recorded in new
   * entries (so incremental consumers get them too), damaged entries are deleted, and a
   * checkpoint of every listed file is written (the log is complete again).
   */
  async rebuild(dataset: string): Promise<RebuildResult> {
    const throughMs = this.now() - this.settleWindowMs;
    const listed: { key: string; size: number }[] = [];
    for await (const info of this.o.store.list(`${dataset}/`)) if (info.key.endsWith('.parquet')) listed.push({ key: info.key, size: info.size });
    const { keys } = await this.listKeys(dataset);
    const { entries, damaged } = await this.readAll(dataset, keys.map((k) => k.logKey));
    const known = new Map<string, LoggedFile>();
    const removed = new Set<string>();
    for (const e of entries) {
      for (const k of e.removed) removed.add(k);
      applyEntry(known, e);
    }
    const all: LoggedFile[] = [];
    const unlogged: LoggedFile[] = [];
    for (const { key, size } of listed) {
      const k = known.get(key);
      if (k) {
        // A logged file without a trace index (written before there was one, or its index was
        // damaged) gets it back from its footer, so the new checkpoint indexes every file.
        const described = !k.index && this.o.describeFile ? await this.o.describeFile(key, size) : undefined;
        all.push(described?.index ? { ...k, index: described.index } : k);
        continue;
      }
      if (removed.has(key)) continue; // replaced by a compaction, awaiting deletion: not data any more
      const f = this.o.describeFile ? await this.o.describeFile(key, size) : unknownFile(key, size);
      all.push(f);
      unlogged.push(f);
    }
    let entriesWritten = 0;
    for (let i = 0; i < unlogged.length; i += REBUILD_FILES_PER_ENTRY) {
      await this.append(dataset, unlogged.slice(i, i + REBUILD_FILES_PER_ENTRY));
      entriesWritten++;
    }
    if (damaged.length > 0) await this.o.store.delete(damaged);
    await this.writeCheckpoint({ dataset, throughMs, writtenBy: this.o.instanceId, files: all });
    return { dataset, files: listed.length, recorded: unlogged.length, entriesWritten, damagedRemoved: damaged.length, throughMs };
  }
}

/**
 * Applies one entry to a file set: its removals, then its files. A file named again (an entry
 * read after the checkpoint that already folded it in) keeps the trace index it had when the
 * entry has none: files are immutable, so the index of the same key and size still holds (this
 * is how `log rebuild` re-indexes files whose entries carry no or a damaged index).
 */
function applyEntry(files: Map<string, LoggedFile>, e: LogEntry): void {
  for (const k of e.removed) files.delete(k);
  for (const f of e.files) {
    const prev = files.get(f.key);
    const kept = !f.index && prev?.index && prev.bytes === f.bytes ? { ...f, index: prev.index } : f;
    files.set(f.key, { ...kept, addedBy: prev?.addedBy ?? e.logKey });
  }
}

/** A file whose contents are not known: its time range is unbounded, so nothing prunes it. */
export function unknownFile(key: string, size: number): LoggedFile {
  return { key, rows: 0, bytes: size, minTimeNs: -(2n ** 63n), maxTimeNs: 2n ** 63n - 1n };
}

/** A writer id for one-off writers (the CLI's `log rebuild`): `{name}-{6 hex}`. */
export function oneOffInstanceId(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}
