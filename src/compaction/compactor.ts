/**
 * Compaction: the small files of a closed partition become few large ones (docs/compaction.md).
 *
 * One partition at a time, under its lease (lease.ts): read the inputs (read-inputs.ts), write
 * the merged rows with the pipeline's FileWriter (sorted by the dataset's layout, footer, bloom,
 * trace index), record the outputs in the lease before uploading them (the intent a crash
 * leaves), then swap in ONE write-log entry that adds the outputs and removes the inputs. Every
 * reader of the log sees either the inputs or the outputs, never both. The inputs are deleted
 * after `delete_grace_seconds` (pending-deletes.ts). A holder that died is recovered by whoever
 * finds its lease expired: outputs the log does not name are deleted, inputs it no longer names
 * are queued for deletion — the log decides, so recovery never takes away a live file.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { S3ParquetError, toS3ParquetError } from '../errors.js';
import { entryKeyTime, type LoggedFile } from '../log/entry.js';
import type { WriteLog } from '../log/write-log.js';
import { BUCKET_MS } from '../partitioning/paths.js';
import { FileWriter } from '../pipeline/file-writer.js';
import { fileWriterSettings } from '../pipeline/file-writer-settings.js';
import type { FlushEncoder } from '../pipeline/encode-pool.js';
import { DATASET_NAMES, DATASETS, promotedSpecs, type DatasetName } from '../schema/datasets.js';
import type { ObjectStore } from '../store/object-store.js';
import { acquireLease, decodeLease, Lease, LEASE_ROOT, type LeaseBody } from './lease.js';
import { pausePoint } from './pause-point.js';
import { deleteDue, recordPendingDeletes } from './pending-deletes.js';
import { readAsSchema } from './read-inputs.js';

const MIB = 1024 * 1024;
/** A file at least this share of the target is left alone (it is already large). */
const LARGE_SHARE = 0.75;

export interface CompactorOptions {
  readonly store: ObjectStore;
  readonly writeLog: WriteLog;
  readonly config: Config;
  /** Names lease holders, output files and log entries. */
  readonly instanceId: string;
  readonly now?: () => number;
  readonly logger?: Logger;
  /**
   * Sorts and encodes the merged rows: the daemon passes a worker pool (its own encode pool, or
   * one worker of compaction's), so a large merge never blocks its receivers; the calling
   * thread when absent (the CLI, which receives nothing). See docs/compaction.md, "Encoding".
   */
  readonly encoder?: FlushEncoder;
  /** Called after every round (the daemon stops compaction's own encode worker then). */
  readonly afterRound?: () => Promise<void>;
  /** Told after every partition compaction (the daemon's metrics). */
  readonly onCompaction?: (e: CompactionEvent) => void;
}

export interface CompactionEvent {
  readonly dataset: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly filesIn?: number;
  readonly filesOut?: number;
  readonly bytesIn?: number;
  readonly bytesOut?: number;
}

export interface PartitionResult {
  readonly dataset: string;
  readonly partition: string;
  readonly filesIn: number;
  readonly filesOut: number;
  readonly rows: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly dryRun: boolean;
}

export interface Skipped {
  readonly dataset: string;
  readonly partition?: string;
  readonly reason: string;
}

export interface RunResult {
  readonly merged: PartitionResult[];
  readonly skipped: Skipped[];
  readonly failed: { readonly dataset: string; readonly partition: string; readonly error: string }[];
  readonly deleted: number;
}

export interface RunOptions {
  readonly datasets?: readonly DatasetName[];
  readonly partition?: string;
  readonly dryRun?: boolean;
}

/** The partition path of a file key (`{dataset}/{partition}/{name}.parquet`). */
export function partitionOf(dataset: string, key: string): string {
  return key.slice(dataset.length + 1, key.lastIndexOf('/'));
}

export class Compactor {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: CompactorOptions) {
    this.now = o.now ?? Date.now;
  }

  private get settings(): Config['compaction'] {
    return this.o.config.compaction;
  }

  /** Compacts whatever is due (and recovers dead holders' leases, deletes what is due). */
  async runOnce(options: RunOptions = {}): Promise<RunResult> {
    try {
      return await this.round(options);
    } finally {
      await this.o.afterRound?.();
    }
  }

  private async round(options: RunOptions): Promise<RunResult> {
    const result: RunResult = { merged: [], skipped: [], failed: [], deleted: 0 };
    let deleted = 0;
    for (const dataset of options.datasets ?? DATASET_NAMES) {
      if (!options.dryRun) {
        await this.recoverExpiredLeases(dataset);
        deleted += await deleteDue(this.o.store, this.o.writeLog, dataset, this.now());
      }
      const view = await this.o.writeLog.view(dataset);
      if (!view.complete) {
        result.skipped.push({ dataset, reason: `the write log is not complete (${view.reason}); run "log rebuild"` });
        continue;
      }
      for (const partition of this.duePartitions(dataset, view.files, options.partition)) {
        if (this.stopped) break;
        const started = performance.now();
        try {
          const r = await this.compactPartition(dataset, partition, options.dryRun === true);
          if (typeof r === 'string') result.skipped.push({ dataset, partition, reason: r });
          else {
            result.merged.push(r);
            if (!r.dryRun) {
              this.o.onCompaction?.({ dataset, ok: true, seconds: (performance.now() - started) / 1000, filesIn: r.filesIn, filesOut: r.filesOut, bytesIn: r.bytesIn, bytesOut: r.bytesOut });
            }
          }
        } catch (err) {
          const e = toS3ParquetError(err);
          result.failed.push({ dataset, partition, error: e.message });
          this.o.onCompaction?.({ dataset, ok: false, seconds: (performance.now() - started) / 1000 });
          this.o.logger?.error({ dataset, partition, err: e.message }, 'compaction failed');
        }
      }
      if (!options.dryRun && this.settings.delete_grace_seconds === 0) deleted += await deleteDue(this.o.store, this.o.writeLog, dataset, this.now());
    }
    return { ...result, deleted };
  }

  /** Partitions with two or more small files whose time window ended `min_partition_age_seconds` ago. */
  duePartitions(dataset: string, files: readonly LoggedFile[], only?: string): string[] {
    const step = BUCKET_MS[this.o.config.partitioning.granularity];
    const cutoffMs = this.now() - this.settings.min_partition_age_seconds * 1000;
    const large = this.settings.target_file_size_mb * MIB * LARGE_SHARE;
    const byPartition = new Map<string, { small: number; open: boolean }>();
    for (const f of files) {
      const p = partitionOf(dataset, f.key);
      if (only !== undefined && p !== only) continue;
      const s = byPartition.get(p) ?? { small: 0, open: false };
      if (f.bytes < large) s.small++;
      const maxMs = Number(f.maxTimeNs / 1_000_000n);
      if (Math.floor(maxMs / step) * step + step > cutoffMs) s.open = true;
      byPartition.set(p, s);
    }
    return [...byPartition.entries()].filter(([, s]) => s.small >= 2 && !s.open).map(([p]) => p).sort();
  }

  private async takeLease(dataset: string, partition: string): Promise<Lease | 'busy'> {
    const common = { holder: this.o.instanceId, dataset, partition, leaseMs: this.settings.lease_seconds * 1000, now: this.now };
    const first = await acquireLease(this.o.store, common);
    if (first === 'busy' || first instanceof Lease) return first;
    await this.recover(dataset, first.expired);
    const second = await acquireLease(this.o.store, { ...common, takeOver: first.expired });
    return second instanceof Lease ? second : 'busy';
  }

  /**
   * Finishes or undoes what a dead holder left: outputs the log does not name are deleted (never
   * swapped in, or replaced since), inputs it no longer names are queued for deletion.
   */
  private async recover(dataset: string, dead: LeaseBody | null): Promise<void> {
    if (!dead || (dead.outputs.length === 0 && dead.inputs.length === 0)) return;
    const view = await this.o.writeLog.view(dataset);
    if (!view.complete) throw new S3ParquetError('STORE_FAILED', `cannot recover the compaction lease of ${dataset}/${dead.partition}: the write log is not complete (${view.reason})`);
    const live = new Set(view.files.map((f) => f.key));
    const orphans = dead.outputs.filter((k) => !live.has(k));
    const replaced = dead.inputs.filter((k) => !live.has(k));
    if (replaced.length > 0) await recordPendingDeletes(this.o.store, dataset, this.o.instanceId, replaced, this.now() + this.settings.delete_grace_seconds * 1000);
    if (orphans.length > 0) await this.o.store.delete(orphans);
    this.o.logger?.warn({ dataset, partition: dead.partition, holder: dead.holder, orphansDeleted: orphans.length, inputsQueued: replaced.length }, 'recovered the compaction lease of a holder that stopped');
  }

  private async recoverExpiredLeases(dataset: string): Promise<void> {
    const prefix = `${LEASE_ROOT}/${dataset}/`;
    const expired: string[] = [];
    for await (const info of this.o.store.list(prefix)) {
      if (!info.key.endsWith('.json')) continue;
      const body = decodeLease(await this.o.store.get(info.key).catch(() => new Uint8Array()));
      if (body === null || body.expiresMs <= this.now()) expired.push(body?.partition ?? info.key.slice(prefix.length, -'.json'.length));
    }
    for (const partition of expired) {
      const lease = await this.takeLease(dataset, partition).catch(() => 'busy' as const);
      if (lease instanceof Lease) await lease.release();
    }
  }

  /** Compacts one partition; a string says why it was skipped. */
  private async compactPartition(dataset: DatasetName, partition: string, dryRun: boolean): Promise<PartitionResult | string> {
    const lease = dryRun ? undefined : await this.takeLease(dataset, partition);
    if (lease === 'busy') return 'another compactor holds its lease';
    let outputs: string[] = [];
    let swapAttempted = false;
    try {
      // Read under the lease: another compactor may have swapped this partition meanwhile.
      const view = await this.o.writeLog.view(dataset);
      if (!view.complete) return `the write log is not complete (${view.reason})`;
      const target = this.settings.target_file_size_mb * MIB;
      const inputs = view.files.filter((f) => partitionOf(dataset, f.key) === partition && f.bytes < target * LARGE_SHARE).sort((a, b) => (a.key < b.key ? -1 : 1));
      if (inputs.length < 2) return 'fewer than two small files';
      const groups = groupBySize(inputs, target);
      const bytesIn = inputs.reduce((n, f) => n + f.bytes, 0);
      if (dryRun) {
        const rows = inputs.reduce((n, f) => n + f.rows, 0);
        return { dataset, partition, filesIn: inputs.length, filesOut: groups.length, rows, bytesIn, bytesOut: 0, dryRun };
      }
      const writer = new FileWriter({ store: this.o.store, instanceId: this.o.instanceId, ...fileWriterSettings(this.o.config), now: this.now, ...(this.o.encoder ? { encoder: this.o.encoder } : {}) });
      const schema = DATASETS[dataset].schema(promotedSpecs(this.o.config)[dataset]);
      const inputKeys = inputs.map((f) => f.key);
      const added: LoggedFile[] = [];
      let rowsIn = 0;
      for (const group of groups) {
        const batches = [];
        for (const f of group) {
          batches.push(...readAsSchema(f.key, await this.o.store.get(f.key), schema, DATASETS[dataset].derived));
          // Decoding is synchronous: one input file at a time, then the event loop runs.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const rows = batches.reduce((n, b) => n + b.numRows, 0);
        rowsIn += rows;
        const minTime = group.reduce((m, f) => (f.minTimeNs < m ? f.minTimeNs : m), group[0]!.minTimeNs);
        const maxTime = group.reduce((m, f) => (f.maxTimeNs > m ? f.maxTimeNs : m), group[0]!.maxTimeNs);
        await pausePoint('merge', `${dataset}/${partition}`);
        const flush = { dataset, partition, batches, rows, bytes: group.reduce((n, f) => n + f.bytes, 0), minTime, maxTime, seqs: [], priorFlushes: [], abandonedKeys: [] };
        const written = await writer.write(flush, async (keys) => {
          outputs = [...outputs, ...keys];
          await lease!.recordIntent(outputs, inputKeys);
        });
        const rowsOut = written.reduce((n, w) => n + w.rows, 0);
        if (rowsOut !== rows) throw new S3ParquetError('STORE_FAILED', `compaction of ${dataset}/${partition} wrote ${rowsOut} rows for ${rows} read`);
        for (const w of written) added.push({ key: w.key, rows: w.rows, bytes: w.bytes, minTimeNs: minTime, maxTimeNs: maxTime, ...(w.index ? { index: w.index } : {}) });
      }
      await pausePoint('upload', `${dataset}/${partition}`);
      await lease!.verify();
      const now = await this.o.writeLog.view(dataset);
      const live = new Set(now.complete ? now.files.map((f) => f.key) : []);
      const gone = inputKeys.filter((k) => !live.has(k));
      if (!now.complete || gone.length > 0) throw new S3ParquetError('STORE_FAILED', `compaction of ${dataset}/${partition} abandoned: ${now.complete ? `${gone[0]} left the write log meanwhile` : 'the write log is no longer complete'}`);
      const removedFrom: Record<string, string> = {};
      let notBeforeMs = 0;
      for (const f of inputs) {
        if (f.addedBy === undefined) continue;
        removedFrom[f.key] = f.addedBy;
        notBeforeMs = Math.max(notBeforeMs, (entryKeyTime(f.addedBy) ?? 0) + 1);
      }
      swapAttempted = true;
      await this.o.writeLog.append(dataset, added, { removed: inputKeys, removedFrom, compaction: true, notBeforeMs });
      await pausePoint('swap', `${dataset}/${partition}`);
      await recordPendingDeletes(this.o.store, dataset, this.o.instanceId, inputKeys, this.now() + this.settings.delete_grace_seconds * 1000);
      await lease!.release();
      const bytesOut = added.reduce((n, f) => n + f.bytes, 0);
      this.o.logger?.info({ dataset, partition, filesIn: inputs.length, filesOut: added.length, rows: rowsIn, bytesIn, bytesOut }, 'partition compacted');
      return { dataset, partition, filesIn: inputs.length, filesOut: added.length, rows: rowsIn, bytesIn, bytesOut, dryRun };
    } catch (err) {
      if (lease && !swapAttempted) {
        // Nothing swapped: the outputs are orphans, and the lease goes (no intent left behind).
        await this.o.store.delete(outputs).catch(() => undefined);
        await lease.release();
      } else if (lease) {
        // The swap may have landed: the lease (and its intent) stays for recovery to decide.
        await lease.abandon();
      }
      throw err;
    } finally {
      if (lease && typeof lease !== 'string') await lease.stopRenewing();
    }
  }

  /** Runs every `interval_seconds` until `stop()`. */
  start(): void {
    const schedule = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.runOnce()
          .then((r) => {
            if (r.merged.length > 0 || r.failed.length > 0) this.o.logger?.info({ merged: r.merged.length, failed: r.failed.length, deleted: r.deleted }, 'compaction round');
          })
          .catch((err: unknown) => this.o.logger?.error({ err: (err as Error).message }, 'compaction round failed'))
          .finally(schedule);
      }, this.settings.interval_seconds * 1000);
      this.timer.unref();
    };
    schedule();
  }

  /** Stops after the partition in progress (its swap lands or is undone). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

/** Consecutive files into groups of about `target` bytes (at least one file each). */
function groupBySize(files: readonly LoggedFile[], target: number): LoggedFile[][] {
  const groups: LoggedFile[][] = [];
  let current: LoggedFile[] = [];
  let bytes = 0;
  for (const f of files) {
    if (current.length > 0 && bytes + f.bytes > target) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(f);
    bytes += f.bytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
