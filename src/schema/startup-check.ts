/**
 * The daemon's guard against incompatible schema changes: at startup, each dataset's configured
 * schema (its promoted attributes decide columns and types) is compared with the schema of the
 * newest file already in the store, with the library's compatibility rules. Changing a promoted
 * attribute's type would otherwise leave a partition whose files disagree on a column's type,
 * which engines reading with union-by-name refuse.
 *
 * "Newest" is found cheaply, never by listing a whole dataset (which on a large lake would hold
 * startup for minutes): the write log's latest entry of the last week, else its checkpoint, else
 * the recent time partitions (file names start with the flush time). A dataset with none of these
 * is not checked, which the log says.
 */
import { parquetMetadata, parquetMetadataAsync, parquetSchema, type FileMetaData } from 'hyparquet';
import { makeBuilder, makeData, RecordBatch, Struct } from 'apache-arrow';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { S3ParquetError } from '../errors.js';
import { checkSchemaCompatibility, ParquetSchema } from '../parquet/schema.js';
import { encodeParquet } from '../parquet/writer.js';
import { BUCKET_MS, formatUtc } from '../partitioning/paths.js';
import { PARSERS, storeBuffer } from '../parquet/source.js';
import type { LoggedFile } from '../log/entry.js';
import type { WriteLog } from '../log/write-log.js';
import type { ObjectInfo, ObjectStore } from '../store/object-store.js';
import { DATASET_NAMES, DATASETS, promotedSpecs, type DatasetName } from './datasets.js';

/** Recent buckets probed before falling back to a full listing. */
const RECENT_BUCKETS = 24;
const FOOTER_BYTES = 64 * 1024;

/** The Parquet schema our writer makes of a dataset's Arrow schema (an empty file, decoded). */
function configuredSchema(config: Config, dataset: DatasetName): ParquetSchema {
  const arrow = DATASETS[dataset].schema(promotedSpecs(config)[dataset]);
  // An empty batch: each column built by Arrow's builder for its type, with no values.
  const children = arrow.fields.map((f) => makeBuilder({ type: f.type }).finish().flush());
  const empty = new RecordBatch(arrow, makeData({ type: new Struct(arrow.fields), length: 0, nullCount: 0, children }));
  const bytes = encodeParquet([empty], new Map(), {
    compression: 'UNCOMPRESSED',
    rowGroupSize: 1,
    pageSize: 1024,
    dictionaryEnabled: false,
    statisticsEnabled: false,
  });
  return ParquetSchema.fromParquet(parquetSchema(parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)));
}

function newest(files: readonly ObjectInfo[]): ObjectInfo | undefined {
  const name = (k: string): string => k.slice(k.lastIndexOf('/') + 1);
  return files.reduce<ObjectInfo | undefined>((best, f) => (best === undefined || name(f.key) > name(best.key) ? f : best), undefined);
}

async function listParquet(store: ObjectStore, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of store.list(prefix)) if (info.key.endsWith('.parquet')) out.push(info);
  return out;
}

const LOG_LOOKBACK_MS = 7 * 86_400_000;

/** The newest file a log names that is still in the store. */
async function newestLogged(store: ObjectStore, files: readonly LoggedFile[]): Promise<ObjectInfo | undefined> {
  const name = (k: string): string => k.slice(k.lastIndexOf('/') + 1);
  for (const f of [...files].sort((a, b) => (name(a.key) < name(b.key) ? 1 : -1))) {
    const info = await store.head(f.key);
    if (info) return info;
  }
  return undefined;
}

async function newestFile(store: ObjectStore, config: Config, dataset: DatasetName, now: number, log?: WriteLog): Promise<ObjectInfo | undefined> {
  if (log) {
    try {
      const { keys } = await log.listKeys(dataset, now - LOG_LOOKBACK_MS);
      for (const { logKey } of [...keys].reverse()) {
        const found = await newestLogged(store, (await log.read(dataset, logKey)).files);
        if (found) return found;
      }
      const cp = await log.checkpoint(dataset);
      const found = cp ? await newestLogged(store, cp.files) : undefined;
      if (found) return found;
    } catch {
      // A damaged or unreadable log: the partitions below still answer.
    }
  }
  const { granularity, format, by_service } = config.partitioning;
  if (!by_service) {
    const step = BUCKET_MS[granularity];
    // One bucket ahead: a clock slightly behind a peer's still sees the peer's newest files.
    for (let t = Math.floor(now / step) * step + step, i = 0; i <= RECENT_BUCKETS; t -= step, i++) {
      const found = newest(await listParquet(store, `${dataset}/${formatUtc(format, t)}/`));
      if (found) return found;
    }
  }
  return undefined;
}

/** A file's footer through the query engine's ranged reads (the last bytes, more only when needed). */
function footerOf(store: ObjectStore, info: ObjectInfo): Promise<FileMetaData> {
  return parquetMetadataAsync(storeBuffer(store, info.key, info.size, { bytesRead: 0, requests: 0 }), { parsers: PARSERS, initialFetchSize: FOOTER_BYTES });
}

/**
 * Throws a Schema error naming the dataset, the file and every incompatible field, unless
 * `[schema] allow_incompatible_changes` is set (then it only warns).
 */
export async function checkStoredSchemas(store: ObjectStore, config: Config, logger: Logger, o: { readonly log?: WriteLog; readonly now?: number } = {}): Promise<void> {
  for (const dataset of DATASET_NAMES) {
    const file = await newestFile(store, config, dataset, o.now ?? Date.now(), o.log);
    if (!file) {
      logger.debug({ dataset }, 'no recent file to check the configured schema against');
      continue;
    }
    const read = ParquetSchema.fromParquet(parquetSchema(await footerOf(store, file)));
    // A column the current version derives instead of storing (traces' end_time, version 3) is
    // not a removed one: readers compute it from the columns that stay.
    const derived = new Set(DATASETS[dataset].derived.map((d) => d.name));
    const stored = derived.size === 0 ? read : ParquetSchema.of(read.fields.filter((f) => !derived.has(f.name)));
    const problems = checkSchemaCompatibility(stored, configuredSchema(config, dataset));
    if (problems.length === 0) {
      logger.debug({ dataset, file: file.key }, 'configured schema is compatible with the newest file');
      continue;
    }
    const message = `the configured ${dataset} schema cannot read ${file.key}, the newest ${dataset} file:\n${problems.join('\n')}\n` +
      'Revert the [schema] change, write to a new prefix or local_path, or set [schema] allow_incompatible_changes = true.';
    if (config.schema.allow_incompatible_changes) logger.warn({ dataset, file: file.key, problems }, 'incompatible schema change allowed by [schema] allow_incompatible_changes');
    else throw new S3ParquetError('SCHEMA_INVALID', message);
  }
}
