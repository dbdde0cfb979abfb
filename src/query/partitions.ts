/**
 * Partitions of a dataset, as paths relative to the dataset (`date=2024-01-01/hour=00`, with an
 * optional leading `service_name=…/`), and what a path says about its records: the time bucket
 * (to prune by a query's time range) and Hive key values (to prune by the filter).
 */
import { S3ParquetError } from '../errors.js';
import { keyLevelName, type PartitionKeyConfig } from '../config/partition-keys-schema.js';
import { BUCKET_MS, formatUtc, HIVE_NULL_PARTITION, isShortenedPartitionValue, type Granularity } from '../partitioning/paths.js';
import type { ObjectInfo, ObjectStore } from '../store/object-store.js';

/** Beyond this many buckets a time range is not expanded; footers prune instead. */
const MAX_EXPANDED_BUCKETS = 100_000;

export interface PartitionFiles {
  readonly partition: string;
  readonly files: ObjectInfo[];
}

/** Every Parquet file of a dataset (optionally under a partition prefix), grouped by partition. */
export async function listPartitionFiles(store: ObjectStore, dataset: string, prefix = '', listed?: { objects: number }): Promise<PartitionFiles[]> {
  const root = `${dataset}/`;
  const groups = new Map<string, ObjectInfo[]>();
  for await (const info of store.list(root + prefix)) {
    if (listed) listed.objects++;
    if (!info.key.endsWith('.parquet')) continue;
    const rel = info.key.slice(root.length);
    const slash = rel.lastIndexOf('/');
    const partition = slash < 0 ? '' : rel.slice(0, slash);
    let list = groups.get(partition);
    if (!list) groups.set(partition, (list = []));
    list.push(info);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([partition, files]) => ({ partition, files }));
}

/**
 * A partition path from a user (API or CLI) made safe: `/`-separated, no empty, `.` or `..`
 * segments, no backslashes or control characters — checked as given and after one and two rounds
 * of percent-decoding (so `%2e%2e` and `%252e%252e` are caught too). Throws INVALID_ARGUMENT.
 */
export function checkPartitionPath(raw: string): string {
  const problemOf = (path: string): string | undefined => {
    if (path === '') return 'it is empty';
    if (path.startsWith('/')) return 'it is absolute';
    if (/[\\\u0000-\u001f\u007f]/.test(path)) return 'it contains a backslash or control character';
    if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'it has an empty, "." or ".." segment';
    return undefined;
  };
  // The path is used as given (escaped partition values keep their %XX); its decodings are
  // checked too, so no reader that decodes again can be led out of the dataset.
  let path = raw;
  for (let round = 0; round < 3; round++) {
    const problem = problemOf(path);
    if (problem) throw new S3ParquetError('INVALID_ARGUMENT', `invalid partition path ${JSON.stringify(raw)}: ${problem}`);
    try {
      path = decodeURIComponent(path);
    } catch {
      break; // a literal "%" that is not an escape: nothing more to decode
    }
  }
  return raw;
}

/**
 * Hive key=value segments of a partition path, values unescaped; `__HIVE_DEFAULT_PARTITION__` is
 * null. A shortened value (src/partitioning/bounds.ts) is left out: it names only a prefix of the
 * real value, so it must not prune.
 */
export function partitionKeys(partition: string): Map<string, string | null> {
  const keys = new Map<string, string | null>();
  for (const seg of partition.split('/')) {
    const eq = seg.indexOf('=');
    if (eq <= 0) continue;
    const raw = seg.slice(eq + 1);
    let value: string | null;
    try {
      value = raw === HIVE_NULL_PARTITION ? null : decodeURIComponent(raw);
    } catch {
      value = raw;
    }
    if (value !== null && isShortenedPartitionValue(value)) continue;
    keys.set(seg.slice(0, eq), value);
  }
  return keys;
}

export interface TimeLayout {
  readonly granularity: Granularity;
  readonly format: string;
  readonly byService: boolean;
  /** Names of the hash/range key levels that follow the time levels (`[[partitioning.keys]]`). */
  readonly keyNames?: readonly string[];
}

/** The layout `[partitioning]` describes, for the query engine. */
export function layoutOf(p: { granularity: Granularity; format: string; by_service: boolean; keys: readonly PartitionKeyConfig[] }): TimeLayout {
  return {
    granularity: p.granularity,
    format: p.format,
    byService: p.by_service,
    keyNames: p.keys.map(keyLevelName),
  };
}

/**
 * The time part of every partition a range [startNs, endNs) can touch, or null when the range
 * is open or too wide to expand (then every partition is considered and footers prune).
 */
export function partitionsForRange(layout: TimeLayout, startNs?: bigint, endNs?: bigint): Set<string> | null {
  if (startNs === undefined || endNs === undefined || endNs <= startNs) return null;
  const step = BUCKET_MS[layout.granularity];
  const first = Math.floor(Number(startNs / 1_000_000n) / step) * step;
  const last = Math.floor(Number((endNs - 1n) / 1_000_000n) / step) * step;
  if ((last - first) / step > MAX_EXPANDED_BUCKETS) return null;
  const out = new Set<string>();
  for (let t = first; t <= last; t += step) out.add(formatUtc(layout.format, t));
  return out;
}

/** The time part of a partition path (without a leading service_name= level or trailing key levels). */
export function timePart(layout: TimeLayout, partition: string): string {
  let path = partition;
  if (layout.byService) {
    const slash = path.indexOf('/');
    if (path.startsWith('service_name=') && slash > 0) path = path.slice(slash + 1);
  }
  const keys = layout.keyNames ?? [];
  while (keys.length > 0) {
    const slash = path.lastIndexOf('/');
    const last = path.slice(slash + 1);
    if (slash < 0 || !keys.some((k) => last.startsWith(`${k}=`))) break;
    path = path.slice(0, slash);
  }
  return path;
}
