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
  /** The partial-success message (the first refused record), '' when none was refused. */
  readonly errorMessage: string;
}

/**
 * Resolves once the request is durable in the write-ahead log (the acknowledgement);
 * throws S3ParquetError (INVALID_ARGUMENT, OVERLOADED, SHUTTING_DOWN, …) for the receiver to
 * translate.
 */
export async function exportBody(pipeline: Pipeline, signal: Signal, format: WireFormat, body: Uint8Array): Promise<ExportReply> {
  const cost = pipeline.admit(body.length, format);
  try {
    const request = decodeRequest(signal, format, body);
    const result = await pipeline.export(signal, request, { format, body });
    return {
      body: encodeResponse(signal, format, result.rejected, result.errorMessage),
      accepted: result.accepted,
      rejected: result.rejected,
      errorMessage: result.errorMessage,
    };
  } finally {
    pipeline.release(cost);
  }
}
