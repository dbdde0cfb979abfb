/**
 * The daemon: configuration → store, pipeline, receivers. `startDaemon` returns once every
 * listener is up; `stop()` closes the listeners, flushes every buffer and closes the store.
 */
import type { Logger } from 'pino';
import { checkConfigPaths, parseEndpoint, walDirOf, type Config } from './config/index.js';
import { WriteAheadLog } from './wal/log.js';
import { DeadLetters } from './wal/dead-letter.js';
import { lockWalDir, type WalLock } from './wal/lock.js';
import { S3ParquetError } from './errors.js';
import { createLogger } from './logger.js';
import { FileWriter } from './pipeline/file-writer.js';
import { createFlushEncoder, EncodePool } from './pipeline/encode-pool.js';
import { fileWriterSettings } from './pipeline/file-writer-settings.js';
import { Compactor } from './compaction/compactor.js';
import { Partitioner, partitioningOptions } from './pipeline/partitioner.js';
import { Pipeline } from './pipeline/pipeline.js';
import { startGrpcReceiver } from './receivers/grpc.js';
import { startHttpReceiver, type RunningReceiver } from './receivers/http.js';
import { promotedSpecs } from './schema/datasets.js';
import { checkStoredSchemas } from './schema/startup-check.js';
import { QueryEngine } from './query/engine.js';
import { layoutOf } from './query/partitions.js';
import { WriteLog } from './log/write-log.js';
import { footerDescriber } from './log/describe.js';
import { DATASET_NAMES } from './schema/datasets.js';
import { startQueryServer } from './query/http.js';
import { filterLimitsOf } from './query/engine-from-config.js';
import { sizeBatchMemoryPool } from './schema/batch-memory.js';
import { QueryPool } from './query/pool/query-pool.js';
import { startTelemetryServer, Telemetry, telemetryPlacement } from './telemetry.js';
import { loadSecurity } from './security/index.js';
import { exposureWarnings } from './security/exposure.js';
import { openStore, type ObjectStore } from './store/index.js';
import { VERSION } from './version.js';
import { deriveInstanceId } from './instance-id.js';

export { deriveInstanceId } from './instance-id.js';

const MIB = 1024 * 1024;

export interface DaemonOptions {
  readonly logger?: Logger;
  readonly now?: () => number;
  /**
   * The lock on the configured WAL directory, when the caller took it already (the CLI does,
   * before loading the daemon's modules, so a second daemon stops at once); released by stop().
   */
  readonly walLock?: WalLock;
}

export interface Daemon {
  readonly config: Config;
  readonly pipeline: Pipeline;
  readonly store: ObjectStore;
  readonly instanceId: string;
  /** Bound ports (useful with port 0); undefined for a disabled receiver. */
  readonly ports: { readonly grpc?: number; readonly http?: number; readonly query?: number; readonly telemetry?: number };
  readonly queryEngine: QueryEngine;
  /** The write log (also when [write_log] is disabled: then it is only read, by changes). */
  readonly writeLog: WriteLog;
  /** Metrics (Prometheus registry, getWriteMetrics() …) and readiness. */
  readonly telemetry: Telemetry;
  /** The background compactor ([compaction] enabled with the write log), if running. */
  readonly compactor?: Compactor;
  stop(): Promise<void>;
}

/**
 * Starts each dataset's log complete when the dataset is still empty; says when a dataset has
 * files but no checkpoint (queries list partitions until `log rebuild`). Never stops startup.
 */
async function initializeWriteLog(log: WriteLog, logger: Logger): Promise<void> {
  for (const dataset of DATASET_NAMES) {
    try {
      const state = await log.initialize(dataset);
      if (state === 'incomplete') logger.info({ dataset }, 'the write log has no checkpoint for this dataset; queries list partitions until "s3-parquet-connector log rebuild"');
    } catch (err) {
      logger.warn({ err, dataset }, 'cannot check the write log at startup; queries list partitions until it is complete');
    }
  }
}

export async function startDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  const logger = options.logger ?? createLogger(config.log.level);
  // Directories, certificates and token files first: a bad path fails (naming its key) before
  // the store or any port is touched.
  checkConfigPaths(config);
  const security = loadSecurity(config);
  for (const w of exposureWarnings(config)) logger.warn({ listener: w.listener, endpoint: w.endpoint }, w.message);
  const instanceId = deriveInstanceId(config.storage.instance_id);
  const walDir = walDirOf(config);
  // The log directory is this daemon's alone; a second daemon on it stops here, touching nothing.
  const walLock = config.wal.enabled
    ? (options.walLock ?? (await lockWalDir(walDir, { instanceId, onLost: (reason) => logger.error({ dir: walDir, reason }, 'the write-ahead log lock was taken away; another daemon may be using this log directory') })))
    : undefined;
  try {
    return await startLocked(config, options, logger, security, instanceId, walDir, walLock);
  } catch (err) {
    await walLock?.release();
    throw err;
  }
}

async function startLocked(
  config: Config,
  options: DaemonOptions,
  logger: Logger,
  security: ReturnType<typeof loadSecurity>,
  instanceId: string,
  walDir: string,
  walLock: WalLock | undefined,
): Promise<Daemon> {
  const telemetry = new Telemetry({ logger });
  const store = await openStore(config, logger, instanceId, { onRequest: telemetry.onStoreRequest });
  const writeLog = new WriteLog({
    store,
    instanceId,
    settleWindowMs: config.write_log.settle_window_seconds * 1000,
    compactAfterEntries: config.write_log.enabled ? config.write_log.compact_after_entries : 0,
    onAppendFailed: telemetry.onLogAppendFailed,
    describeFile: footerDescriber(store),
    ...(options.now ? { now: options.now } : {}),
  });
  try {
    await checkStoredSchemas(store, config, logger, { log: writeLog, ...(options.now ? { now: options.now() } : {}) });
  } catch (err) {
    await store.close();
    throw err;
  }
  if (config.write_log.enabled) await initializeWriteLog(writeLog, logger);
  const flushEncoder = createFlushEncoder(config.parquet.encode_workers);
  const writer = new FileWriter({
    store,
    instanceId,
    ...fileWriterSettings(config),
    ...(options.now ? { now: options.now } : {}),
    ...(config.write_log.enabled ? { writeLog } : {}),
    encoder: flushEncoder,
  });
  const opened = config.wal.enabled
    ? await WriteAheadLog.open({
        dir: walDir,
        fsync: config.wal.fsync,
        fsyncIntervalMs: config.wal.fsync_interval_ms,
        maxBytes: config.wal.max_size_mb * MIB,
        segmentBytes: config.wal.segment_size_mb * MIB,
        logger,
        onWriteError: (code) => telemetry.metrics.observeWalWriteError(code),
      })
    : undefined;
  const wal = opened?.wal;
  // Stored batches' slabs kept for the next requests (schema/batch-memory.ts).
  sizeBatchMemoryPool(config.buffer.memory_limit_mb * MIB);
  const pipeline = new Pipeline({
    ...(wal ? { wal } : {}),
    // Records that can never be stored go next to the log (issue 21): never a reason to stop.
    deadLetters: new DeadLetters({ walDir, logger, onDeadLetter: (e) => telemetry.metrics.observeDeadLetter(e.stage, e.dataset, e.records) }),
    maxPartitions: config.buffer.max_partitions,
    onPartitionsRefused: (dataset, partitions, records) => telemetry.metrics.observePartitionsRefused(dataset, partitions, records),
    onSpill: (dataset, records, bytes) => telemetry.metrics.observeSpill(dataset, records, bytes),
    onDrained: (dataset, records) => telemetry.metrics.observeDrained(dataset, records),
    memoryLimitBytes: config.buffer.memory_limit_mb * MIB,
    partitioner: new Partitioner(partitioningOptions(config.partitioning)),
    limits: {
      maxRows: config.buffer.max_rows,
      maxBytes: config.buffer.max_bytes_mb * MIB,
      maxAgeMs: config.buffer.max_age_seconds * 1000,
    },
    promoted: promotedSpecs(config),
    writer,
    logger,
    onFileWritten: telemetry.onFileWritten,
    onFlush: telemetry.onFlush,
    ...(options.now ? { now: options.now } : {}),
  });
  telemetry.attach({
    store,
    buffered: () => ({ rows: pipeline.bufferedRows, bytes: pipeline.bufferedBytes, byDataset: pipeline.bufferedByDataset() }),
    flushesFailing: () => pipeline.degraded,
  });
  telemetry.setWalBytesSource(() => wal?.bytes ?? 0);
  telemetry.metrics.setBacklogSource(() => ({ spilledRows: pipeline.spilledRows, spilledBytes: pipeline.spilledBytes, ageSeconds: pipeline.backlogAgeSeconds() }));
  telemetry.setWalWriteErrorSource(() => {
    const err = wal?.lastError;
    return err ? `${err.code ?? 'error'}: ${err.message}` : null;
  });

  const receivers: RunningReceiver[] = [];
  const ports: { grpc?: number; http?: number; query?: number; telemetry?: number } = {};
  const telemetryAt = telemetryPlacement(config);
  const queryEngine = new QueryEngine({
    store,
    layout: layoutOf(config.partitioning),
    promoted: promotedSpecs(config),
    footerCacheEntries: config.query.footer_cache_entries,
    onQuery: telemetry.onQuery,
    writeLog,
    useLogForQueries: config.write_log.enabled,
    maxEntriesPerRead: config.write_log.max_entries_per_read,
    onLogFallback: (dataset, reason) => logger.debug({ dataset, reason }, 'query lists partitions: the write log is not complete'),
    filterLimits: filterLimitsOf(config),
  });
  // Queries run on worker threads (issue 18); this thread's engine only validates, lists and
  // deletes partitions and reads the write log for changes.
  const queryPool = config.query.enabled ? new QueryPool({ config, instanceId, onQuery: telemetry.onQuery, onStop: telemetry.onQueryStopped, onStoreRequest: telemetry.onStoreRequest }) : undefined;
  if (queryPool) telemetry.setQueriesRunningSource(() => queryPool.running);
  // Worker threads load their modules while the receivers start and the log replays; the
  // daemon reports started only once they have (runtime/pool-warm.ts), so their start-up is
  // not paid on the first requests' CPU and the first query does not wait for it.
  const warming = Promise.all([queryPool?.warm(), writer.warm()]);
  warming.catch(() => {}); // awaited below; a start that fails before then must not leave it unhandled
  /** A start that fails after the listeners began: everything opened so far closes, the log stays as found. */
  const abandonStart = async (): Promise<void> => {
    await Promise.all(receivers.map((r) => r.close()));
    await queryPool?.close();
    await pipeline.close();
    await writer.close();
    await wal?.abandon();
    await store.close();
  };
  try {
    if (config.receivers.grpc.enabled) {
      const { host, port } = parseEndpoint(config.receivers.grpc.endpoint);
      const r = await startGrpcReceiver({ host, port, maxRecvBytes: config.receivers.grpc.max_recv_msg_size_mib * MIB, pipeline, logger, observer: telemetry.receiverObserver, server: security.grpc });
      receivers.push(r);
      ports.grpc = r.port;
      logger.info({ transport: 'grpc', host, port: r.port }, 'receiver listening');
    }
    if (config.receivers.http.enabled) {
      const { host, port } = parseEndpoint(config.receivers.http.endpoint);
      const r = await startHttpReceiver({ host, port, maxBodyBytes: config.receivers.http.max_request_body_mib * MIB, pipeline, logger, observer: telemetry.receiverObserver, server: security.http, auth: security.receiverAuth });
      receivers.push(r);
      ports.http = r.port;
      logger.info({ transport: 'http', host, port: r.port }, 'receiver listening');
    }
    if (config.query.enabled) {
      const { host, port } = parseEndpoint(config.query.endpoint);
      const q = await startQueryServer({ host, port, engine: queryEngine, pool: queryPool, maxJsonBytes: config.query.max_json_response_mb * MIB, logger, onRequest: telemetry.onQueryRequest, ...(telemetryAt.kind === 'query-port' ? { extraRoutes: telemetry.routes } : {}), server: security.query, auth: security.queryAuth });
      receivers.push(q);
      ports.query = q.port;
      logger.info({ transport: 'query', host, port: q.port }, 'query port listening');
      if (telemetryAt.kind === 'query-port') ports.telemetry = q.port;
    }
    if (telemetryAt.kind === 'own') {
      const t = await startTelemetryServer({ host: telemetryAt.host, port: telemetryAt.port, telemetry, logger });
      receivers.push(t);
      ports.telemetry = t.port;
      logger.info({ transport: 'telemetry', host: telemetryAt.host, port: t.port }, 'telemetry port listening');
    }
  } catch (err) {
    // Listeners are bound before the log is replayed: a port conflict leaves the log as found.
    await abandonStart();
    throw new S3ParquetError('CONFIG_INVALID', `cannot start receivers: ${(err as Error).message}`, { cause: err });
  }
  // Before the replay: a start abandoned here leaves the log exactly as found.
  try {
    await warming;
  } catch (err) {
    await abandonStart();
    throw new S3ParquetError('INTERNAL', `cannot start worker threads: ${(err as Error).message}`, { cause: err });
  }
  if (opened && opened.recovered.data.length > 0) {
    // Replay only buffers (flushes come later, the usual way), so requests that arrive meanwhile
    // simply join the buffers behind the recovered records.
    const replayed = await pipeline.replay(opened.recovered, store);
    logger.info({ ...replayed, problems: opened.recovered.problems.length, orphans: opened.recovered.orphanKeys.length }, 'write-ahead log replayed');
  }
  // Compaction (docs/compaction.md) runs in the background; it needs the write log to swap.
  // Its encoding runs off the event loop: on the flush workers when there are some, else on one
  // worker of its own, started for a round with work and stopped after it (its wasm memory goes).
  const compactionEncoder = config.parquet.encode_workers > 0 ? undefined : new EncodePool(1);
  const compactor =
    config.compaction.enabled && config.write_log.enabled
      ? new Compactor({
          store,
          writeLog,
          config,
          instanceId,
          logger,
          encoder: compactionEncoder ?? flushEncoder,
          ...(compactionEncoder ? { afterRound: () => compactionEncoder.close() } : {}),
          onCompaction: (e) => telemetry.metrics.observeCompaction(e),
          ...(options.now ? { now: options.now } : {}),
        })
      : undefined;
  compactor?.start();
  logger.info({ store: store.description, instance: instanceId, version: VERSION, security: security.summary }, 'daemon started');
  telemetry.setListening(true);

  let stopping: Promise<void> | undefined;
  return {
    config,
    pipeline,
    queryEngine,
    writeLog,
    store,
    instanceId,
    ports,
    telemetry,
    ...(compactor ? { compactor } : {}),
    stop: () =>
      (stopping ??= (async () => {
        telemetry.setListening(false);
        await compactor?.stop();
        await compactionEncoder?.close();
        // Stop taking traffic first, then flush what was accepted.
        await Promise.all(receivers.map((r) => r.close()));
        await queryPool?.close();
        await pipeline.close();
        await writer.close();
        if (!(await writeLog.settle())) logger.error({ entries: writeLog.pendingEntries }, 'write log entries could not be stored; run "log rebuild"');
        await wal?.close();
        await walLock?.release();
        await store.close();
        logger.info('daemon stopped');
      })()),
  };
}
