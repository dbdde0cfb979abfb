/**
 * Which store failures retrying cannot fix. A flush failing with one of these is moved to a
 * dead-letter file instead of being retried forever (which used to pin the write-ahead log until
 * it was full); every other failure (the store down, throttling, a timeout) is retried.
 */
import { S3ParquetError, type ErrorCode } from '../errors.js';

/** Errno codes of a local path the file system can never hold. */
const PERMANENT_ERRNO = new Set(['ENAMETOOLONG', 'EILSEQ']);
/** S3 error codes of a key the service can never hold. */
const PERMANENT_S3 = new Set(['KeyTooLongError', 'InvalidObjectName']);
/** Our codes for data that is wrong in itself. */
const PERMANENT_CODES = new Set<ErrorCode>(['SCHEMA_INVALID', 'INVALID_ARGUMENT']);

/** True when `err` (or an error in its `cause` chain) says the same write can never succeed. */
export function isPermanentStoreFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof S3ParquetError && PERMANENT_CODES.has(e.code)) return true;
    const o = e as { code?: unknown; Code?: unknown; name?: unknown; cause?: unknown };
    if (typeof o.code === 'string' && PERMANENT_ERRNO.has(o.code)) return true;
    if ((typeof o.Code === 'string' && PERMANENT_S3.has(o.Code)) || (typeof o.name === 'string' && PERMANENT_S3.has(o.name))) return true;
    e = o.cause;
  }
  return false;
}
