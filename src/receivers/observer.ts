/**
 * What a receiver reports about each request it answered, for metrics and logs. Receivers
 * only describe the request; whoever passes an observer decides what to count or log.
 */
import type { S3ParquetError } from '../errors.js';
import type { Signal } from '../otlp/decode.js';

export type ReceiverTransport = 'grpc' | 'http';

export interface ReceiverRequestEvent {
  readonly transport: ReceiverTransport;
  /** The signal the path or service names; null for a path that names none. */
  readonly signal: Signal | null;
  /** The answer: the HTTP status ("200", "413") or the gRPC status name ("OK", "INVALID_ARGUMENT"). */
  readonly code: string;
  /** From the start of handling to the answer (gRPC: after grpc-js has read the message). */
  readonly seconds: number;
  /** Records the pipeline took (0 when the request failed as a whole). */
  readonly accepted: number;
  /** Records refused one by one inside an accepted request (OTLP partial success). */
  readonly rejected: number;
  /** The partial-success message naming the first refused record; '' when none was. */
  readonly rejectMessage: string;
  /** Why the request was refused as a whole; absent when it was answered with success. */
  readonly error?: S3ParquetError;
}

export interface ReceiverObserver {
  onRequest(event: ReceiverRequestEvent): void;
}
