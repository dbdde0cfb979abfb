/**
 * Turns AWS SDK errors into S3ParquetError messages that name the bucket, the key and the S3
 * error code, so an operator can act without a stack trace. radosgw sends error bodies without
 * a message; the code and HTTP status are still there.
 */
import { S3ParquetError } from '../errors.js';

interface AwsErrorLike {
  name?: string;
  message?: string;
  Code?: string;
  /** Node's system error code (ECONNREFUSED, ENOTFOUND, …) when the request never got an answer. */
  code?: string;
  cause?: unknown;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

export function s3ErrorCode(err: unknown): string {
  const e = err as AwsErrorLike;
  if (e?.Code) return e.Code;
  // A network failure arrives as a plain Error: its name says nothing, its errno code does.
  if ((e?.name === undefined || e.name === 'Error') && typeof e?.code === 'string') return e.code;
  return e?.name ?? 'UnknownError';
}

/** What kind of failure a transport error code is, in words an operator can act on. */
function causeKind(code: string, name: string | undefined): string | undefined {
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'DNS lookup failed';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection reset';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (code === 'ETIMEDOUT' || code === 'ECONNABORTED' || name === 'TimeoutError' || name === 'RequestTimeout') return 'timed out';
  if (code === 'EPROTO' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') return 'TLS failure';
  return undefined;
}

/**
 * The underlying cause of a request that got no S3 answer (connection refused, DNS, TLS,
 * timeout), found on the error, its `cause` chain or an AggregateError's members; undefined
 * for an answered S3 error (its code says enough).
 */
export function transportCause(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || err === null || typeof err !== 'object') return undefined;
  const e = err as AwsErrorLike;
  if (s3HttpStatus(err) !== undefined && e.Code) return undefined;
  const code = typeof e.code === 'string' ? e.code : '';
  const kind = causeKind(code, e.name);
  if (kind) return `${kind} (${e.message || code})`;
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = transportCause(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export function s3HttpStatus(err: unknown): number | undefined {
  return (err as AwsErrorLike)?.$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const code = s3ErrorCode(err);
  return s3HttpStatus(err) === 404 || code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchBucket';
}

export function s3Error(operation: string, bucket: string, key: string | undefined, err: unknown): S3ParquetError {
  if (err instanceof S3ParquetError) return err;
  const e = err as AwsErrorLike;
  const status = s3HttpStatus(err);
  const where = key === undefined ? `s3://${bucket}` : `s3://${bucket}/${key}`;
  const cause = transportCause(err);
  const detail = cause ? `: ${cause}` : e?.message && e.message !== 'UnknownError' && e.message !== s3ErrorCode(err) ? `: ${e.message}` : '';
  const code = isNotFound(err) ? 'NOT_FOUND' : 'STORE_FAILED';
  return new S3ParquetError(code, `S3 ${operation} ${where} failed with ${s3ErrorCode(err)}${status ? ` (HTTP ${status})` : ''}${detail}`, { cause: err });
}
