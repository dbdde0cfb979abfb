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
  $metadata?: { httpStatusCode?: number };
}

export function s3ErrorCode(err: unknown): string {
  const e = err as AwsErrorLike;
  return e?.Code ?? e?.name ?? 'UnknownError';
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
  const detail = e?.message && e.message !== 'UnknownError' && e.message !== s3ErrorCode(err) ? `: ${e.message}` : '';
  const code = isNotFound(err) ? 'NOT_FOUND' : 'STORE_FAILED';
  return new S3ParquetError(code, `S3 ${operation} ${where} failed with ${s3ErrorCode(err)}${status ? ` (HTTP ${status})` : ''}${detail}`, { cause: err });
}
