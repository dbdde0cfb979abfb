/**
 * `s3-parquet-connector log rebuild [--dataset D]`: rebuilds the write log of one dataset (or
 * all three) from a listing of the configured store, so queries use it again.
 */
import type { Config } from '../config/index.js';
import { S3ParquetError } from '../errors.js';
import { createLogger } from '../logger.js';
import { DATASET_NAMES, isDatasetName } from '../schema/datasets.js';
import { openStore } from '../store/index.js';
import { footerDescriber } from './describe.js';
import { oneOffInstanceId, WriteLog } from './write-log.js';

export async function logCommand(config: Config, action: string | undefined, args: { readonly dataset?: string }, out: NodeJS.WritableStream): Promise<number> {
  if (action !== 'rebuild') throw new S3ParquetError('INVALID_ARGUMENT', `log needs an action: "log rebuild [--dataset D]"${action ? `, got "${action}"` : ''}`);
  if (args.dataset !== undefined && !isDatasetName(args.dataset)) {
    throw new S3ParquetError('INVALID_ARGUMENT', `unknown dataset ${JSON.stringify(args.dataset)}; expected one of ${DATASET_NAMES.join(', ')}`);
  }
  const instanceId = oneOffInstanceId('rebuild');
  const store = await openStore(config, createLogger('silent'), instanceId);
  try {
    const log = new WriteLog({ store, instanceId, settleWindowMs: config.write_log.settle_window_seconds * 1000, describeFile: footerDescriber(store) });
    for (const dataset of args.dataset !== undefined ? [args.dataset] : DATASET_NAMES) {
      const r = await log.rebuild(dataset);
      out.write(`${dataset}: ${r.files} files; ${r.recorded} were not in the log (${r.entriesWritten} entries written); ${r.damagedRemoved} damaged entries removed; checkpoint through ${new Date(r.throughMs).toISOString()}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}
