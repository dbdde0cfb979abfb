/**
 * One error family for everything the daemon and the library can answer with.
 *
 * Each code is a single table entry: its kind (what failed), its HTTP status and its gRPC
 * status. Receivers never pick a status themselves; they look the code up here, so gRPC and
 * HTTP answer the same failure the same way (as the Collector's `internal/errors` does).
 */

/** gRPC status codes used by the receivers (subset of grpc.status). */
export const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  PERMISSION_DENIED: 7,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

export type ErrorKind = 'Validation' | 'Config' | 'Schema' | 'Parquet' | 'S3' | 'NotFound' | 'Unavailable' | 'Internal';

interface ErrorSpec {
  readonly kind: ErrorKind;
  readonly http: number;
  readonly grpc: GrpcStatusCode;
  /** Whether a client should retry the same request later (OTLP retryable). */
  readonly retryable: boolean;
  readonly description: string;
}

/** The table: every code the project can raise. Documented in docs/sending.md ("Errors and statuses"). */
export const ERROR_CODES = {
  INVALID_ARGUMENT: { kind: 'Validation', http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, description: 'The request could not be decoded or is not valid OTLP.' },
  PAYLOAD_TOO_LARGE: { kind: 'Validation', http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: false, description: 'The request body is larger than the configured limit after decompression.' },
  UNSUPPORTED_MEDIA_TYPE: { kind: 'Validation', http: 415, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, description: 'Content-Type or Content-Encoding is not supported.' },
  UNAUTHENTICATED: { kind: 'Validation', http: 401, grpc: GrpcStatus.UNAUTHENTICATED, retryable: false, description: 'No valid bearer token ([auth] receiver_tokens / query_tokens) came with the request.' },
  FORBIDDEN: { kind: 'Validation', http: 403, grpc: GrpcStatus.PERMISSION_DENIED, retryable: false, description: 'The bearer token is valid but read-only ([auth] query_read_only_tokens); this operation changes data.' },
  REQUEST_TIMEOUT: { kind: 'Validation', http: 408, grpc: GrpcStatus.DEADLINE_EXCEEDED, retryable: true, description: 'The request was not received within the configured request timeout (slow sender).' },
  METHOD_NOT_ALLOWED: { kind: 'Validation', http: 405, grpc: GrpcStatus.UNIMPLEMENTED, retryable: false, description: 'The HTTP method is not allowed on this path.' },
  NOT_FOUND: { kind: 'NotFound', http: 404, grpc: GrpcStatus.NOT_FOUND, retryable: false, description: 'No such path or object.' },
  SHUTTING_DOWN: { kind: 'Unavailable', http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, description: 'The daemon is shutting down and accepts no new data.' },
  CONFIG_INVALID: { kind: 'Config', http: 500, grpc: GrpcStatus.INTERNAL, retryable: false, description: 'The configuration is invalid.' },
  SCHEMA_INVALID: { kind: 'Schema', http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, description: 'A schema or record does not fit its declared schema.' },
  PARQUET_WRITE_FAILED: { kind: 'Parquet', http: 500, grpc: GrpcStatus.INTERNAL, retryable: false, description: 'Encoding a Parquet file failed.' },
  OVERLOADED: { kind: 'Unavailable', http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, description: 'Buffered data is at [buffer] memory_limit_mb; retry after the flushes catch up.' },
  WAL_FULL: { kind: 'Unavailable', http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, description: 'The write-ahead log is at [wal] max_size_mb; retry after the store catches up.' },
  WAL_FAILED: { kind: 'Unavailable', http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, description: 'Writing the write-ahead log failed; nothing was acknowledged.' },
  STORE_FAILED: { kind: 'S3', http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, description: 'The object store failed an operation.' },
  TOO_MANY_QUERIES: { kind: 'Unavailable', http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: true, description: 'The query port runs [query] max_concurrent_queries queries already; retry after Retry-After seconds (docs/query-limits.md).' },
  QUERY_TIMEOUT: { kind: 'Unavailable', http: 504, grpc: GrpcStatus.DEADLINE_EXCEEDED, retryable: false, description: 'The query ran longer than [query] timeout_seconds and was stopped; narrow it (time range, filter, limit).' },
  QUERY_MEMORY_EXCEEDED: { kind: 'Unavailable', http: 507, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: false, description: 'The query needed more than [query] max_memory_mb_per_query and was stopped; narrow it or stream it (ndjson).' },
  QUERY_RESULT_TOO_LARGE: { kind: 'Validation', http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: false, description: 'A buffered (json) answer exceeded [query] max_json_response_mb; use format ndjson or arrow, or a limit.' },
  INTERNAL: { kind: 'Internal', http: 500, grpc: GrpcStatus.INTERNAL, retryable: false, description: 'An unexpected internal error.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class S3ParquetError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'S3ParquetError';
    this.code = code;
    this.kind = ERROR_CODES[code].kind;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  get grpcStatus(): GrpcStatusCode {
    return ERROR_CODES[this.code].grpc;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}

/** Wraps anything thrown into the family, keeping the original as `cause`. */
export function toS3ParquetError(err: unknown, fallback: ErrorCode = 'INTERNAL'): S3ParquetError {
  if (err instanceof S3ParquetError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new S3ParquetError(fallback, message, { cause: err });
}
