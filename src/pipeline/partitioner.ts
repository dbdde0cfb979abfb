/**
 * Places a record by its event time (UTC) into a Hive-style partition path such as
 * `date=2024-01-01/hour=00`, optionally under a leading `service_name=<svc>/` level.
 *
 * The time is first floored to the granularity, then formatted, so a format finer than the
 * granularity prints zeros (`hour=00` for `day`). Formatting is cached per bucket because a
 * request's records almost always share one hour. Hash and range keys (`[[partitioning.keys]]`)
 * add levels after the time levels, computed per record from the fields the converter passes.
 */

import { createHash } from 'node:crypto';
import type { Config } from '../config/index.js';
import { keyLevelName, type PartitionKeyConfig } from '../config/partition-keys-schema.js';
import { BUCKET_MS, formatUtc, escapePartitionValue } from '../partitioning/paths.js';
import type { Granularity } from '../partitioning/paths.js';
import { HashPartitioning, RangePartitioning, type Partitioning, type RecordLike } from '../partitioning/strategies.js';
import { placeEventTime, type EventTimeWindow } from '../partitioning/time-window.js';

export { formatUtc, escapePartitionValue, HIVE_NULL_PARTITION, type Granularity } from '../partitioning/paths.js';

export interface PartitioningOptions {
  readonly granularity: Granularity;
  /** strftime subset: %Y %m %d %H %M %j %%. */
  readonly format: string;
  readonly byService: boolean;
  /** Hash and range levels after the time levels, each for some datasets. */
  readonly keys?: readonly PartitionKeyConfig[];
  /** The event-time window (undefined: none; times a timestamp cannot hold are refused still). */
  readonly window?: EventTimeWindow;
}

/** The `[partitioning]` table as a Partitioner's options, its event-time window included. */
export function partitioningOptions(p: Config['partitioning']): PartitioningOptions {
  return {
    granularity: p.granularity,
    format: p.format,
    byService: p.by_service,
    keys: p.keys,
    window: {
      maxPastNs: BigInt(p.max_past_hours) * 3_600_000_000_000n,
      maxFutureNs: BigInt(p.max_future_minutes) * 60_000_000_000n,
      outside: p.outside_window,
    },
  };
}

/** A `[[partitioning.keys]]` entry as a strategy. */
export function keyStrategy(key: PartitionKeyConfig): Partitioning {
  if (key.type === 'hash') {
    return HashPartitioning.create().withField(key.field).withNumPartitions(key.num_partitions ?? 1).withName(keyLevelName(key));
  }
  return RangePartitioning.create()
    .withField(key.field)
    .withRanges((key.ranges ?? []).map((r) => [r.from, r.to, r.label] as const))
    .withDefaultLabel(key.default_label)
    .withName(keyLevelName(key));
}

const NS_PER_MS = 1_000_000n;
const CACHE_LIMIT = 4096;

export class Partitioner {
  private readonly bucketMs: number;
  private readonly cache = new Map<string, string>();

  private readonly keysByDataset = new Map<string, Partitioning[]>();

  /**
   * Identifies this partitioning (granularity, format, levels, window): the write-ahead log
   * stores it with each request's partitions, which a restart trusts only under the same one.
   */
  readonly fingerprint: string;

  constructor(private readonly options: PartitioningOptions) {
    this.fingerprint = createHash('sha256').update(JSON.stringify(options, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).digest('base64url').slice(0, 16);
    this.bucketMs = BUCKET_MS[options.granularity];
    for (const key of options.keys ?? []) {
      const strategy = keyStrategy(key);
      for (const dataset of key.datasets) {
        let list = this.keysByDataset.get(dataset);
        if (!list) this.keysByDataset.set(dataset, (list = []));
        list.push(strategy);
      }
    }
  }

  /**
   * The time that places a record received at `receivedNs`, or the problem that refuses it
   * (partial success): see partitioning/time-window.ts.
   */
  placeTime(timeNs: bigint, receivedNs: bigint | undefined): bigint | string {
    return placeEventTime(timeNs, receivedNs ?? timeNs, receivedNs === undefined ? undefined : this.options.window);
  }

  /** The key levels of a dataset (empty when none: converters then skip building key fields). */
  keysFor(dataset: string): readonly Partitioning[] {
    return this.keysByDataset.get(dataset) ?? [];
  }

  /**
   * The partition path of a record with event time `timeNs` (ns since the epoch, UTC); with
   * `keys` (from `keysFor`), the key levels of `fields` follow the time levels.
   */
  pathFor(timeNs: bigint, serviceName: string | null, keys?: readonly Partitioning[], fields?: RecordLike): string {
    const base = this.timePathFor(timeNs, serviceName);
    if (!keys || keys.length === 0 || !fields) return base;
    let path = base;
    for (const k of keys) path += '/' + k.pathFor(fields);
    return path;
  }

  /**
   * The last path and the event times it covers, [lastLo, lastHi) in ns: a request's records
   * nearly all fall into one bucket, and a range check skips the division, the key string and
   * the map lookup that `timePathFor` pays per record otherwise (~5 % of the one-pass decoder).
   */
  private lastLo = 0n;
  private lastHi = 0n;
  private lastService: string | null = null;
  private lastPath = '';

  private timePathFor(timeNs: bigint, serviceName: string | null): string {
    if (timeNs >= this.lastLo && timeNs < this.lastHi && (!this.options.byService || serviceName === this.lastService)) return this.lastPath;
    const ms = Number(timeNs / NS_PER_MS);
    const bucket = Math.floor(ms / this.bucketMs) * this.bucketMs;
    const key = this.options.byService ? `${bucket}|${serviceName ?? ''}` : String(bucket);
    let path = this.cache.get(key);
    if (path === undefined) {
      path = formatUtc(this.options.format, bucket);
      if (this.options.byService) path = `service_name=${escapePartitionValue(serviceName)}/${path}`;
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, path);
    }
    if (timeNs >= 0n) {
      // Every time in [bucket, bucket + bucketMs) ms floors to this bucket (truncation is a floor only from 0 up).
      this.lastLo = BigInt(bucket) * NS_PER_MS;
      this.lastHi = this.lastLo + BigInt(this.bucketMs) * NS_PER_MS;
      this.lastService = serviceName;
      this.lastPath = path;
    }
    return path;
  }
}
