/**
 * Places a record by its event time (UTC) into a Hive-style partition path such as
 * `date=2024-01-01/hour=00`, optionally under a leading `service_name=<svc>/` level.
 *
 * The time is first floored to the granularity, then formatted, so a format finer than the
 * granularity prints zeros (`hour=00` for `day`). Formatting is cached per bucket because a
 * request's records almost always share one hour.
 */

export type Granularity = 'minute' | 'hour' | 'day';

export interface PartitioningOptions {
  readonly granularity: Granularity;
  /** strftime subset: %Y %m %d %H %M %j %%. */
  readonly format: string;
  readonly byService: boolean;
}

const BUCKET_MS: Record<Granularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const NS_PER_MS = 1_000_000n;
const CACHE_LIMIT = 4096;

/** Partition value used by Hive for a null key; DuckDB, Spark and Trino read it as NULL. */
export const HIVE_NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function formatUtc(format: string, ms: number): string {
  const d = new Date(ms);
  return format.replace(/%([YmdHMj%])/g, (_, c: string) => {
    switch (c) {
      case 'Y':
        return pad(d.getUTCFullYear(), 4);
      case 'm':
        return pad(d.getUTCMonth() + 1);
      case 'd':
        return pad(d.getUTCDate());
      case 'H':
        return pad(d.getUTCHours());
      case 'M':
        return pad(d.getUTCMinutes());
      case 'j':
        return pad(Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3);
      default:
        return '%';
    }
  });
}

/**
 * Escapes a partition value the way Hive does (`/`, `=`, `%`, control characters and a few
 * more become `%XX`), so a service name can never add a path level or climb out of one.
 */
export function escapePartitionValue(value: string | null): string {
  if (value === null || value === '') return HIVE_NULL_PARTITION;
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || `"#%'*/:=?\\{[]^`.includes(ch)) {
      out += '%' + code.toString(16).toUpperCase().padStart(2, '0');
    } else {
      out += ch;
    }
  }
  // "." and ".." are path segments of their own; escape their dots to keep them literal.
  return out === '.' || out === '..' ? out.replace(/\./g, '%2E') : out;
}

export class Partitioner {
  private readonly bucketMs: number;
  private readonly cache = new Map<string, string>();

  constructor(private readonly options: PartitioningOptions) {
    this.bucketMs = BUCKET_MS[options.granularity];
  }

  /** The partition path of a record with event time `timeNs` (ns since the epoch, UTC). */
  pathFor(timeNs: bigint, serviceName: string | null): string {
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
    return path;
  }
}
