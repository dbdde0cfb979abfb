/**
 * How long a partition value may be in a path, and how a longer one is shortened.
 *
 * A path segment is at most 255 bytes on local file systems and an S3 key at most 1,024 bytes, so
 * a client-chosen value (`service.name`, a library value level) cannot go into a path as it is:
 * one 300-byte service name used to make every flush fail with ENAMETOOLONG. The rule is one that
 * any SQL engine can compute, so a query for a long value still finds its partition:
 *
 *   a value of more than 64 UTF-8 bytes is written as its first 32 characters (code points),
 *   `~`, and the first 16 hex digits of the MD5 of the whole value (UTF-8), before escaping.
 *
 *   DuckDB: CASE WHEN strlen(v) > 64 THEN substr(v, 1, 32) || '~' || substr(md5(v), 1, 16) ELSE v END
 *   Trino/Athena: CASE WHEN length(to_utf8(v)) > 64 THEN substr(v, 1, 32) || '~' || substr(lower(to_hex(md5(to_utf8(v)))), 1, 16) ELSE v END
 *   Spark: CASE WHEN octet_length(v) > 64 THEN concat(substr(v, 1, 32), '~', substr(md5(v), 1, 16)) ELSE v END
 *
 * Escaping turns one byte into at most three, so a value of 64 bytes is at most 192 bytes in a
 * path, and a shortened one at most 32 × 4 + 17 = 145: with its `name=` a segment stays well under
 * 255 bytes. The rows keep the real value in their column; only the path holds the short form.
 */
import { createHash } from 'node:crypto';

/** Values longer than this (UTF-8 bytes) are shortened in paths. */
export const MAX_PARTITION_VALUE_BYTES = 64;
/** Characters (code points) of a long value kept before its hash suffix. */
export const SHORTENED_PREFIX_CHARS = 32;
const HASH_HEX_DIGITS = 16;

/** The value as it goes into a path (before escaping): itself, or its shortened form. */
export function boundPartitionValue(value: string): string {
  // Cheap exit for the usual case: 16 UTF-16 units are at most 48 UTF-8 bytes.
  if (value.length <= 16 || Buffer.byteLength(value, 'utf8') <= MAX_PARTITION_VALUE_BYTES) return value;
  let prefix = '';
  let n = 0;
  for (const ch of value) {
    if (n++ === SHORTENED_PREFIX_CHARS) break;
    prefix += ch;
  }
  const hash = createHash('md5').update(value, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
  return `${prefix}~${hash}`;
}

const SHORTENED = new RegExp(`~[0-9a-f]{${HASH_HEX_DIGITS}}$`);

/**
 * True when a (decoded) path value may be a shortened one: it then says only that the real value
 * starts with its prefix, so pruning by it must not rule anything out.
 */
export function isShortenedPartitionValue(value: string): boolean {
  return SHORTENED.test(value);
}
