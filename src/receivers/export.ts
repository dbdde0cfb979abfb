/**
 * The one export step both transports share: decode the body, hand it to the pipeline, encode
 * the OTLP response. Receivers only move bytes and map `S3ParquetError` codes to statuses.
 */
import { decodeRequest, encodeResponse, type Signal, type WireFormat } from '../otlp/decode.js';
import type { Pipeline } from '../pipeline/pipeline.js';

export interface ExportReply {
  readonly body: Uint8Array;
  readonly accepted: number;
  readonly rejected: number;
}

/** Throws S3ParquetError (INVALID_ARGUMENT, SHUTTING_DOWN, …) for the receiver to translate. */
export function exportBody(pipeline: Pipeline, signal: Signal, format: WireFormat, body: Uint8Array): ExportReply {
  const request = decodeRequest(signal, format, body);
  const result = pipeline.export(signal, request);
  return {
    body: encodeResponse(signal, format, result.rejected, result.errorMessage),
    accepted: result.accepted,
    rejected: result.rejected,
  };
}
