/**
 * Admission of compressed OTLP/gRPC calls against `[buffer] memory_limit_mb`.
 *
 * grpc-js inflates a gzip (or deflate) message itself, in one go, before any handler or
 * interceptor sees it; it only stops at `max_receive_message_length` of output. There is no hook
 * to count the output while it grows (as OTLP/HTTP does with `pipeline.chargeInflating`), so a
 * compressed call is charged its worst case, the receive limit, from the moment it may start
 * reading until its message has been inflated. A call that does not fit while others are in
 * flight is refused retryably (UNAVAILABLE with RetryInfo) before a byte of it is read; a call
 * alone always proceeds. Uncompressed calls are not charged here: what they hold while reading
 * is what the client sent, and the decoded request is admitted by `exportBody` as any other.
 *
 * It must come after the security interceptor in the chain (outermost): the token is checked
 * first, and the handler's `startRead` reaches this call before the inner ones.
 */
import * as grpc from '@grpc/grpc-js';
import { toS3ParquetError, type S3ParquetError } from '../errors.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { endUpload } from '../security/index.js';

export interface GrpcAdmissionOptions {
  readonly pipeline: Pipeline;
  /** What one compressed call may inflate to: `max_recv_msg_size_mib`. */
  readonly maxRecvBytes: number;
  /** The status to answer a refused call with (the receiver adds RetryInfo). */
  readonly status: (err: S3ParquetError) => { code: grpc.status; details: string; metadata?: grpc.Metadata };
  /** Told about each refused call (metrics, request log). */
  readonly onRefused?: (path: string, err: S3ParquetError) => void;
}

/** The grpc-js call at the bottom of the interceptor chain (it holds the stream and the encoding). */
function baseCall(call: grpc.ServerInterceptingCallInterface): object {
  let c: object = call;
  for (let depth = 0; depth < 16 && !('incomingEncoding' in c); depth++) {
    const next = (c as { nextCall?: unknown }).nextCall;
    if (typeof next !== 'object' || next === null) break;
    c = next;
  }
  return c;
}

/**
 * True unless the call says `grpc-encoding: identity`. When grpc-js no longer keeps the encoding
 * where we look, every call counts as compressed: slower to admit, never unbounded.
 */
function isCompressed(base: object): boolean {
  const encoding = (base as { incomingEncoding?: unknown }).incomingEncoding;
  return typeof encoding !== 'string' || encoding !== 'identity';
}

class AdmittedCall extends grpc.ServerInterceptingCall {
  private reading = false;
  private held = 0;
  private readonly base: object;

  constructor(
    next: grpc.ServerInterceptingCallInterface,
    private readonly path: string,
    private readonly options: GrpcAdmissionOptions,
  ) {
    super(next, {
      start: (nextStart) =>
        nextStart({
          onReceiveMessage: (message, nextMessage) => {
            this.release(); // inflated: from here on `exportBody` admits the decoded request
            nextMessage(message);
          },
          onCancel: () => this.release(),
        }),
      sendStatus: (status, nextStatus) => {
        this.release();
        nextStatus(status);
      },
    });
    this.base = baseCall(next);
  }

  override startRead(): void {
    if (!this.reading) {
      this.reading = true;
      if (isCompressed(this.base)) {
        try {
          this.options.pipeline.chargeInflating(this.options.maxRecvBytes, 0);
          this.held = this.options.maxRecvBytes;
        } catch (e) {
          const err = toS3ParquetError(e);
          this.options.onRefused?.(this.path, err);
          this.sendStatus(this.options.status(err));
          endUpload(this.base as grpc.ServerInterceptingCallInterface);
          return;
        }
      }
    }
    super.startRead();
  }

  private release(): void {
    if (this.held === 0) return;
    this.options.pipeline.release(this.held);
    this.held = 0;
  }
}

export function grpcAdmission(options: GrpcAdmissionOptions): grpc.ServerInterceptor {
  return (method, call) => new AdmittedCall(call, method.path, options);
}
