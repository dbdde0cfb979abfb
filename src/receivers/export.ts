/**
 * The one export step both transports share: decode the body, hand it to the pipeline, encode
 * the OTLP response. Receivers only move bytes and map `S3ParquetError` codes to statuses.
 */
import { encodeResponse, prepareRequest, type Signal, type WireFormat } from '../otlp/decode.js';
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
    const request = prepareRequest(signal, format, body);
    const result = await pipeline.export(signal, request, { format, body });
    const errorMessage = result.accepted + result.rejected === 0 && carriesData(format, body) ? noRecordsMessage(signal, format, body) : result.errorMessage;
    return {
      body: encodeResponse(signal, format, result.rejected, errorMessage),
      accepted: result.accepted,
      rejected: result.rejected,
      errorMessage,
    };
  } finally {
    pipeline.release(cost);
  }
}

const RECORD_NOUN: Readonly<Record<Signal, string>> = { traces: 'spans', logs: 'log records', metrics: 'data points' };
const TOP_FIELD: Readonly<Record<Signal, string>> = { traces: 'resourceSpans', logs: 'resourceLogs', metrics: 'resourceMetrics' };

/**
 * Whether a body holds more than an empty message: any protobuf byte, or JSON beyond `{}` and
 * whitespace. An empty request is a valid no-op and is answered as full success.
 */
function carriesData(format: WireFormat, body: Uint8Array): boolean {
  if (format === 'protobuf') return body.length > 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== 0x7b && c !== 0x7d && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return true;
  }
  return false;
}

/**
 * A request that carried data but yielded no record is not a silent success: partial success
 * with 0 rejected and a message is the specification's warning. Most often the body is another
 * signal's request (OTLP/JSON ignores unknown fields, so `resourceLogs` sent to /v1/traces
 * decodes as an empty request) or every resource was empty.
 */
function noRecordsMessage(signal: Signal, format: WireFormat, body: Uint8Array): string {
  const hint = format === 'json' ? ` (an OTLP/JSON ${signal} request lists them under "${TOP_FIELD[signal]}"; was it sent to the wrong endpoint?)` : '';
  return `the request carried ${body.length} bytes but no ${RECORD_NOUN[signal]}${hint}`;
}
