/** Hive-style partition path pieces shared by the daemon's partitioner and the library's strategies. */
import { boundPartitionValue } from './bounds.js';

export { boundPartitionValue, isShortenedPartitionValue, MAX_PARTITION_VALUE_BYTES, SHORTENED_PREFIX_CHARS } from './bounds.js';

export type Granularity = 'minute' | 'hour' | 'day';

/** Milliseconds in a time bucket of each granularity. */
export const BUCKET_MS: Readonly<Record<Granularity, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `20240101T000512Z`: the UTC time that starts every data file's name (sortable as text). */
export function compactUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Partition value used by Hive for a null key; DuckDB, Spark and Trino read it as NULL. */
export const HIVE_NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';


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
 * more become `%XX`), so a service name can never add a path level or climb out of one. A value
 * longer than `MAX_PARTITION_VALUE_BYTES` is shortened first (`boundPartitionValue`), so its
 * path segment always fits a file name (255 bytes) and an S3 key (1,024 bytes).
 */
export function escapePartitionValue(value: string | null): string {
  if (value === null || value === '') return HIVE_NULL_PARTITION;
  const bounded = boundPartitionValue(value);
  let out = '';
  for (const ch of bounded) {
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
