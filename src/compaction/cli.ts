/**
 * `s3-parquet-connector compact [--dataset D] [--partition P] [--dry-run]`: compacts now whatever
 * is due, printing one line per partition (files in → out, rows, bytes before → after). Exits 1
 * when a partition failed. Safe while daemons run on the same store (leases keep them apart).
 */
import type { Config } from '../config/index.js';
import { S3ParquetError } from '../errors.js';
import { createLogger } from '../logger.js';
import { footerDescriber } from '../log/describe.js';
import { oneOffInstanceId, WriteLog } from '../log/write-log.js';
import { checkPartitionPath } from '../query/partitions.js';
import { DATASET_NAMES, isDatasetName } from '../schema/datasets.js';
import { openStore } from '../store/index.js';
import { Compactor } from './compactor.js';

export async function compactCommand(
  config: Config,
  args: { readonly dataset?: string; readonly partition?: string; readonly 'dry-run'?: boolean },
  out: NodeJS.WritableStream,
): Promise<number> {
  if (args.dataset !== undefined && !isDatasetName(args.dataset)) {
    throw new S3ParquetError('INVALID_ARGUMENT', `unknown dataset ${JSON.stringify(args.dataset)}; expected one of ${DATASET_NAMES.join(', ')}`);
  }
  if (args.partition !== undefined && args.dataset === undefined) throw new S3ParquetError('INVALID_ARGUMENT', 'compact --partition needs --dataset');
  const partition = args.partition === undefined ? undefined : checkPartitionPath(args.partition);
  if (!config.write_log.enabled) throw new S3ParquetError('CONFIG_INVALID', 'compaction needs the write log ([write_log] enabled = true)');
  const instanceId = oneOffInstanceId('compact');
  const store = await openStore(config, createLogger('silent'), instanceId);
  try {
    // Folds the log into a checkpoint as the daemon does: without it every view of a long log
    // lists (and, on a local store, stats) every entry again, once or more per partition.
    const writeLog = new WriteLog({
      store,
      instanceId,
      settleWindowMs: config.write_log.settle_window_seconds * 1000,
      compactAfterEntries: config.write_log.compact_after_entries,
      describeFile: footerDescriber(store),
    });
    const compactor = new Compactor({ store, writeLog, config, instanceId });
    const r = await compactor.runOnce({
      ...(args.dataset !== undefined ? { datasets: [args.dataset as (typeof DATASET_NAMES)[number]] } : {}),
      ...(partition !== undefined ? { partition } : {}),
      dryRun: args['dry-run'] === true,
    });
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(2)} MiB`;
    for (const m of r.merged) {
      const after = m.dryRun ? '(dry run)' : mb(m.bytesOut);
      out.write(`${m.dataset}/${m.partition}: ${m.filesIn} files → ${m.filesOut}, ${m.rows} rows, ${mb(m.bytesIn)} → ${after}\n`);
    }
    for (const s of r.skipped) if (s.partition === undefined || partition !== undefined) out.write(`${s.dataset}${s.partition ? `/${s.partition}` : ''}: skipped, ${s.reason}\n`);
    for (const f of r.failed) out.write(`${f.dataset}/${f.partition}: FAILED, ${f.error}\n`);
    if (r.merged.length === 0 && r.failed.length === 0) out.write('nothing to compact\n');
    if (r.deleted > 0) out.write(`${r.deleted} replaced files deleted (their grace had passed)\n`);
    if (r.failed.length > 0) throw new S3ParquetError('STORE_FAILED', `compaction failed for ${r.failed.length} partition(s): ${r.failed.map((f) => `${f.dataset}/${f.partition}`).join(', ')}`);
    return 0;
  } finally {
    await store.close();
  }
}
