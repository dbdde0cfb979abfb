/**
 * Partitioning strategies: each maps a record to one or more Hive-style path levels. The library's
 * batch writes take a list of them (levels in order); the daemon's `[partitioning] keys` build
 * hash and range levels from the same classes.
 *
 * The hash is documented so any engine can compute a record's bucket (docs/layout.md):
 *   bucket = uint32 from the first 4 bytes (big-endian) of MD5(UTF-8 text of the value) mod N
 * where the text of a number is its decimal form, of a boolean `true`/`false`. In SQL:
 *   DuckDB/Trino/Athena/Spark: `('0x' || substr(md5(CAST(v AS VARCHAR)), 1, 8))` as an unsigned
 *   integer, modulo N (DuckDB: `CAST('0x' || substr(md5(v::VARCHAR), 1, 8) AS UBIGINT) % N`).
 */
import { createHash } from 'node:crypto';
import { S3ParquetError } from '../errors.js';
import { BUCKET_MS, escapePartitionValue, formatUtc, HIVE_NULL_PARTITION, type Granularity } from './paths.js';
import { parseTimestampNs, plainUtcMs } from '../time/timestamp.js';

export type RecordLike = Readonly<Record<string, unknown>>;

export interface Partitioning {
  /** The record field the strategy reads. */
  readonly field: string;
  /** The path level(s) of a record, e.g. `date=2024-01-01/hour=00` or `user_id_bucket=3`. */
  pathFor(record: RecordLike): string;
}

const invalid = (message: string): never => {
  throw new S3ParquetError('CONFIG_INVALID', message);
};

function checkField(field: string, strategy: string): void {
  if (typeof field !== 'string' || field === '') invalid(`${strategy}: a field name is required (withField)`);
}

function checkLevelName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) invalid(`partition key name ${JSON.stringify(name)}: use up to 64 letters, digits and _ (it becomes a column name)`);
  return name;
}

// ---- time -------------------------------------------------------------------------------------


/** A record's event time in ns: RFC 3339 text, a Date, epoch ms (number) or epoch ns (bigint). */
export function eventTimeNs(value: unknown): bigint | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : BigInt(value.getTime()) * 1_000_000n;
  if (typeof value === 'string') return parseTimestampNs(value.trim());
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.round(value * 1000)) * 1000n;
  return undefined;
}

/** Milliseconds of a record's event time, all a time bucket needs (plain UTC text without bigints). */
function eventTimeMs(value: unknown): number | undefined {
  const plain = typeof value === 'string' ? plainUtcMs(value) : undefined;
  if (plain !== undefined) return plain;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const ns = eventTimeNs(value);
  return ns === undefined ? undefined : Number(ns / 1_000_000n) - (ns < 0n && ns % 1_000_000n !== 0n ? 1 : 0);
}

/** Levels from a timestamp field, floored to the granularity and formatted with strftime (UTC). */
export class TimePartitioning implements Partitioning {
  private readonly paths = new Map<number, string>();

  private constructor(
    readonly field: string,
    readonly granularity: Granularity,
    readonly format: string,
  ) {}

  /** Defaults: field `timestamp`, granularity `hour`, format `date=%Y-%m-%d/hour=%H`. */
  static create(): TimePartitioning {
    return new TimePartitioning('timestamp', 'hour', 'date=%Y-%m-%d/hour=%H');
  }

  withField(field: string): TimePartitioning {
    checkField(field, 'TimePartitioning');
    return new TimePartitioning(field, this.granularity, this.format);
  }

  withGranularity(granularity: Granularity): TimePartitioning {
    if (!(granularity in BUCKET_MS)) invalid(`TimePartitioning: granularity must be minute, hour or day, got ${JSON.stringify(granularity)}`);
    return new TimePartitioning(this.field, granularity, this.format);
  }

  /** strftime subset: %Y %m %d %H %M %j %%; `/` separates levels. */
  withFormat(format: string): TimePartitioning {
    if (format === '' || format.startsWith('/') || format.endsWith('/') || format.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      invalid(`TimePartitioning: format ${JSON.stringify(format)} must be a relative path without empty, "." or ".." levels`);
    }
    return new TimePartitioning(this.field, this.granularity, format);
  }

  pathFor(record: RecordLike): string {
    const ms = eventTimeMs(record[this.field]);
    if (ms === undefined) {
      throw new S3ParquetError('SCHEMA_INVALID', `field "${this.field}" is the time partition key but holds ${JSON.stringify(String(record[this.field]))}, not a timestamp`);
    }
    const step = BUCKET_MS[this.granularity];
    const bucket = Math.floor(ms / step) * step;
    // Records of a batch share few buckets: format each once (a hot path of batch writes).
    let path = this.paths.get(bucket);
    if (path === undefined) {
      path = formatUtc(this.format, bucket);
      if (this.paths.size >= 4096) this.paths.clear();
      this.paths.set(bucket, path);
    }
    return path;
  }
}

// ---- value (identity) -------------------------------------------------------------------------

/** The text a value hashes and partitions as: strings as they are, numbers in decimal, booleans as words. */
export function partitionText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

/** `field=value`, the value Hive-escaped (so it can never add or climb a level). */
export class ValuePartitioning implements Partitioning {
  constructor(readonly field: string) {
    checkField(field, 'ValuePartitioning');
    checkLevelName(field);
  }

  pathFor(record: RecordLike): string {
    return `${this.field}=${escapePartitionValue(partitionText(record[this.field]))}`;
  }
}

// ---- hash -------------------------------------------------------------------------------------

/** The documented stable bucket of a value (see the module comment); null stays null. */
export function stableBucket(value: unknown, buckets: number): number | null {
  const text = partitionText(value);
  if (text === null) return null;
  const digest = createHash('md5').update(text, 'utf8').digest();
  return digest.readUInt32BE(0) % buckets;
}

/** `{name}={bucket}` with `name` defaulting to `{field}_bucket`; a null value goes to Hive's default partition. */
export class HashPartitioning implements Partitioning {
  private constructor(
    readonly field: string,
    readonly numPartitions: number,
    private readonly levelName: string,
  ) {}

  static create(): HashPartitioning {
    return new HashPartitioning('', 16, '');
  }

  withField(field: string): HashPartitioning {
    checkField(field, 'HashPartitioning');
    return new HashPartitioning(field, this.numPartitions, this.levelName);
  }

  withNumPartitions(n: number): HashPartitioning {
    if (!Number.isInteger(n) || n < 1 || n > 65_536) invalid(`HashPartitioning: numPartitions must be a whole number in 1..65536, got ${n}`);
    return new HashPartitioning(this.field, n, this.levelName);
  }

  /** The partition column's name (default `{field}_bucket`). */
  withName(name: string): HashPartitioning {
    return new HashPartitioning(this.field, this.numPartitions, checkLevelName(name));
  }

  get name(): string {
    return this.levelName !== '' ? this.levelName : `${this.field}_bucket`;
  }

  pathFor(record: RecordLike): string {
    if (this.field === '') invalid('HashPartitioning: a field name is required (withField)');
    const bucket = stableBucket(record[this.field], this.numPartitions);
    return `${this.name}=${bucket === null ? HIVE_NULL_PARTITION : bucket}`;
  }
}

// ---- range ------------------------------------------------------------------------------------

export interface Range {
  /** Inclusive lower bound. */
  readonly from: number;
  /** Exclusive upper bound. */
  readonly to: number;
  readonly label: string;
}

/**
 * `{name}={label}` for the first range [from, to) holding the numeric value; a value outside
 * every range, null, or not a number goes to the default label (`other` unless set).
 */
export class RangePartitioning implements Partitioning {
  private constructor(
    readonly field: string,
    readonly ranges: readonly Range[],
    readonly defaultLabel: string,
    private readonly levelName: string,
  ) {}

  static create(): RangePartitioning {
    return new RangePartitioning('', [], 'other', '');
  }

  withField(field: string): RangePartitioning {
    checkField(field, 'RangePartitioning');
    return new RangePartitioning(field, this.ranges, this.defaultLabel, this.levelName);
  }

  /** Ranges as `[from, to, label]` tuples or objects; they must not overlap. */
  withRanges(ranges: readonly (readonly [number, number, string] | Range)[]): RangePartitioning {
    const list = ranges.map((r) => (Array.isArray(r) ? { from: r[0], to: r[1], label: r[2] } : (r as Range)));
    const sorted = [...list].sort((a, b) => a.from - b.from);
    sorted.forEach((r, i) => {
      if (!(Number.isFinite(r.from) && Number.isFinite(r.to)) || r.from >= r.to) invalid(`RangePartitioning: range ${JSON.stringify(r)} must have from < to`);
      if (typeof r.label !== 'string' || r.label === '') invalid(`RangePartitioning: range ${JSON.stringify(r)} needs a label`);
      const prev = sorted[i - 1];
      if (prev && prev.to > r.from) invalid(`RangePartitioning: ranges "${prev.label}" and "${r.label}" overlap`);
    });
    return new RangePartitioning(this.field, list, this.defaultLabel, this.levelName);
  }

  withDefaultLabel(label: string): RangePartitioning {
    if (label === '') invalid('RangePartitioning: the default label must not be empty');
    return new RangePartitioning(this.field, this.ranges, label, this.levelName);
  }

  /** The partition column's name (default `{field}_range`). */
  withName(name: string): RangePartitioning {
    return new RangePartitioning(this.field, this.ranges, this.defaultLabel, checkLevelName(name));
  }

  get name(): string {
    return this.levelName !== '' ? this.levelName : `${this.field}_range`;
  }

  labelFor(value: unknown): string {
    const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number.NaN;
    const hit = Number.isNaN(n) ? undefined : this.ranges.find((r) => n >= r.from && n < r.to);
    return hit ? hit.label : this.defaultLabel;
  }

  pathFor(record: RecordLike): string {
    if (this.field === '') invalid('RangePartitioning: a field name is required (withField)');
    if (this.ranges.length === 0) invalid('RangePartitioning: at least one range is required (withRanges)');
    return `${this.name}=${escapePartitionValue(this.labelFor(record[this.field]))}`;
  }
}

/** The path of a record under several strategies, levels in order. */
export function partitionPath(strategies: readonly Partitioning[], record: RecordLike): string {
  return strategies.map((s) => s.pathFor(record)).join('/');
}
