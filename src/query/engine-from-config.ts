/**
 * The one way a process builds a query engine from the configuration: the daemon's query
 * workers and the CLI (`query`, `tail`) both call it, so they read, prune and limit alike.
 */
import type { Config } from '../config/index.js';
import { WriteLog } from '../log/write-log.js';
import { promotedSpecs } from '../schema/datasets.js';
import type { ObjectStore } from '../store/object-store.js';
import { QueryEngine, type QueryEngineOptions } from './engine.js';
import { layoutOf } from './partitions.js';

export function filterLimitsOf(config: Config): { maxBytes: number; maxDepth: number } {
  return { maxBytes: config.query.max_filter_bytes, maxDepth: config.query.max_filter_depth };
}

export function engineFromConfig(
  config: Config,
  store: ObjectStore,
  instanceId: string,
  extra: Pick<QueryEngineOptions, 'onQuery' | 'onLogFallback'> = {},
): QueryEngine {
  return new QueryEngine({
    store,
    writeLog: new WriteLog({
      store,
      instanceId,
      settleWindowMs: config.write_log.settle_window_seconds * 1000,
      compactAfterEntries: config.write_log.enabled ? config.write_log.compact_after_entries : 0,
    }),
    useLogForQueries: config.write_log.enabled,
    maxEntriesPerRead: config.write_log.max_entries_per_read,
    footerCacheEntries: config.query.footer_cache_entries,
    layout: layoutOf(config.partitioning),
    promoted: promotedSpecs(config),
    filterLimits: filterLimitsOf(config),
    ...extra,
  });
}
