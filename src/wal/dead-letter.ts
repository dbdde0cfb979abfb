/**
 * Dead letters: records the daemon accepted but can never store (a request that no longer
 * decodes, a flush the store refuses for a reason retrying cannot fix). They are moved aside into
 * `dead-letter/` inside the write-ahead-log directory rather than dropped silently or retried
 * forever, so start-up and flushing go on, and an operator can inspect or re-send them.
 *
 * Files (one per dead letter, never overwritten):
 *   `<utc>-wal-<seq>.wal`    a write-ahead-log entry exactly as it was in the log (same format,
 *                             src/wal/format.ts), so the request body can be extracted and re-sent;
 *   `<utc>-flush-<dataset>-<n>.arrow` the rows of a flush as an Arrow IPC file (pyarrow, DuckDB's
 *                             arrow extension and apache-arrow read it);
 *   each with a `.json` beside it: why, when, and where the records were going;
 *   `<utc>-wal-<seq>-<n>.unreadable.json` alone for an entry that cannot even be read back (its
 *                             segment damaged or deleted under the daemon): what it was, and why.
 *
 * Stages: `replay` (a restart), `flush` (the store refused for good), `spill` (a spilled request
 * re-read for its flush no longer yields its records: the rest of the partition flushes on).
 * Log lines are rate-limited per stage; the metric counts every one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import { LogRateLimiter } from '../log-rate-limit.js';
import { encodeEntry, type DataEntry } from './format.js';

export const DEAD_LETTER_DIR = 'dead-letter';

/** What a dead letter held, for the metric. */
export type DeadLetterStage = 'replay' | 'flush' | 'spill';

export interface DeadLetterEvent {
  readonly stage: DeadLetterStage;
  readonly dataset: string;
  readonly records: number;
  readonly file: string;
}

export interface DeadLetterOptions {
  /** The write-ahead-log directory; dead letters go into its `dead-letter/` subdirectory. */
  readonly walDir: string;
  readonly logger: Logger;
  readonly onDeadLetter?: (e: DeadLetterEvent) => void;
  readonly now?: () => number;
}

const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '.$1Z');
const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 2000);

export class DeadLetters {
  private readonly dir: string;
  private counter = 0;
  /** A damaged log can fail every spilled entry of a backlog: a few lines per stage per 10 s. */
  private readonly logLimit = new LogRateLimiter(5, 10_000);

  constructor(private readonly o: DeadLetterOptions) {
    this.dir = join(o.walDir, DEAD_LETTER_DIR);
  }

  /**
   * Moves a write-ahead-log data entry aside (it could not be replayed, or a spilled part of it
   * no longer yields the records of `partition`, `records` of them); returns the file.
   */
  async entry(entry: DataEntry, reason: unknown, spilled?: { readonly partition: string; readonly records: number }): Promise<string> {
    const stage: DeadLetterStage = spilled ? 'spill' : 'replay';
    const file = join(this.dir, `${stamp(this.now())}-wal-${entry.seq}-${this.counter++}.wal`);
    // Without the placement: a dead letter holds the plain DATA entry (header, then the request).
    await this.write(file, encodeEntry({ ...entry, placement: undefined }), { stage, signal: entry.signal, format: entry.format, seq: entry.seq, ...spilled, reason: describe(reason) });
    this.warn(stage, { file, seq: entry.seq, signal: entry.signal, ...spilled, err: describe(reason) }, spilled
      ? 'spilled write-ahead log entry no longer yields its records; moved to a dead-letter file, the partition flushes on'
      : 'write-ahead log entry cannot be replayed; moved to a dead-letter file, start-up goes on');
    this.o.onDeadLetter?.({ stage, dataset: entry.signal, records: spilled?.records ?? 0, file });
    return file;
  }

  /**
   * A write-ahead-log entry that cannot be read back at all (its segment damaged or deleted):
   * a note of what it was and why, since its bytes are gone; returns the file.
   */
  async unreadable(seq: number, dataset: string, reason: unknown, spilled?: { readonly partition: string; readonly records: number }): Promise<string> {
    const stage: DeadLetterStage = spilled ? 'spill' : 'replay';
    const file = join(this.dir, `${stamp(this.now())}-wal-${seq}-${this.counter++}.unreadable.json`);
    await mkdir(this.dir, { recursive: true });
    await writeFile(file, JSON.stringify({ stage, dataset, seq, ...spilled, reason: describe(reason), at: new Date(this.now()).toISOString() }, null, 2) + '\n', { flag: 'wx' });
    this.warn(stage, { file, seq, dataset, ...spilled, err: describe(reason) }, 'write-ahead log entry cannot be read back; its records are lost, noted in a dead-letter file');
    this.o.onDeadLetter?.({ stage, dataset, records: spilled?.records ?? 0, file });
    return file;
  }

  private warn(stage: DeadLetterStage, fields: Record<string, unknown>, msg: string): void {
    const suppressed = this.logLimit.take(stage);
    if (suppressed !== null) this.o.logger.warn({ ...fields, suppressed }, msg);
  }

  /** Moves a flush's rows aside (the store refuses them for good); returns the file. */
  async flush(dataset: string, partition: string, batches: readonly RecordBatch[], reason: unknown): Promise<string> {
    const file = join(this.dir, `${stamp(this.now())}-flush-${dataset}-${this.counter++}.arrow`);
    const rows = batches.reduce((n, b) => n + b.numRows, 0);
    const body = batches.length > 0 ? tableToIPC(new Table(batches as RecordBatch[]), 'file') : new Uint8Array(0);
    await this.write(file, body, { stage: 'flush', dataset, partition, rows, reason: describe(reason) });
    this.warn('flush', { file, dataset, partition: partition.slice(0, 300), rows, err: describe(reason) }, 'flush failed for a reason retrying cannot fix; its rows were moved to a dead-letter file');
    this.o.onDeadLetter?.({ stage: 'flush', dataset, records: rows, file });
    return file;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private async write(file: string, body: Uint8Array, meta: Record<string, unknown>): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(file, body, { flag: 'wx' });
    await writeFile(`${file}.json`, JSON.stringify({ ...meta, at: new Date(this.now()).toISOString() }, null, 2) + '\n', { flag: 'wx' });
  }
}
