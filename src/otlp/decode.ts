/**
 * Decodes OTLP export requests from protobuf or OTLP/JSON into protobufjs message objects.
 * Both paths yield the same shape (see types.ts), so everything downstream is format-blind.
 */
import { S3ParquetError } from '../errors.js';
import { convertJsonIds, type Signal } from './json-ids.js';
import { checkJsonFields } from './json-check.js';
import { checkJsonCost, walkProtobuf, wireFit } from './limits.js';
import { WireRequest } from './wire-reader.js';
import { otlpTypes } from './proto-root.js';
import type { ExportTraceServiceRequest } from './types.js';

export type { Signal };
export type WireFormat = 'protobuf' | 'json';

function requestType(signal: Signal) {
  const t = otlpTypes();
  switch (signal) {
    case 'traces':
      return t.ExportTraceServiceRequest;
    case 'logs':
      return t.ExportLogsServiceRequest;
    case 'metrics':
      return t.ExportMetricsServiceRequest;
  }
}

function responseType(signal: Signal) {
  const t = otlpTypes();
  switch (signal) {
    case 'traces':
      return t.ExportTraceServiceResponse;
    case 'logs':
      return t.ExportLogsServiceResponse;
    case 'metrics':
      return t.ExportMetricsServiceResponse;
  }
}

const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];

/** For a body refused as `signal`: the other signal's request type it fits best, if any. */
function otherSignalHint(signal: Signal) {
  return (body: Uint8Array): string | undefined => {
    let best: string | undefined;
    let bestFit = 0;
    for (const other of SIGNALS) {
      if (other === signal) continue;
      const type = requestType(other);
      const fit = wireFit(type, body);
      if (fit > bestFit) [best, bestFit] = [type.name, fit];
    }
    return best;
  };
}

function invalid(what: string, err: unknown): S3ParquetError {
  const detail = err instanceof Error ? err.message : String(err);
  return new S3ParquetError('INVALID_ARGUMENT', `${what}: ${detail}`, { cause: err });
}

/**
 * Decodes a request body; undecodable input throws INVALID_ARGUMENT naming the problem, and so
 * does a body that would cost far more memory decoded than its size suggests (limits.ts).
 */
export function decodeRequest(signal: Signal, format: WireFormat, body: Uint8Array): unknown {
  const type = requestType(signal);
  if (format === 'protobuf') {
    walkProtobuf(type, body, otherSignalHint(signal));
    try {
      return type.decode(body);
    } catch (err) {
      throw invalid(`malformed protobuf ${type.name}`, err);
    }
  }
  checkJsonCost(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw invalid('malformed JSON', err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new S3ParquetError('INVALID_ARGUMENT', `malformed OTLP/JSON ${type.name}: expected a JSON object`);
  }
  convertJsonIds(signal, parsed);
  try {
    checkJsonFields(type, parsed as Record<string, unknown>);
    return type.fromObject(parsed as Record<string, unknown>);
  } catch (err) {
    throw invalid(`malformed OTLP/JSON ${type.name}`, err);
  }
}

/**
 * Like `decodeRequest`, but a protobuf body comes back undecoded and unwalked as a
 * {@link WireRequest}, for the pipeline's one-pass decoder to read straight into columns; its
 * decoder checks the limits as it reads and takes the walk + protobufjs road itself when the
 * body needs it (pipeline/convert-{traces,logs,metrics}-wire.ts), so its refusals surface from
 * `Pipeline.export` (before the WAL, the same errors). OTLP/JSON is decoded by protobufjs.
 */
export function prepareRequest(signal: Signal, format: WireFormat, body: Uint8Array): unknown {
  // Every signal has a one-pass decoder (pipeline/convert-*-wire.ts).
  if (format !== 'protobuf') return decodeRequest(signal, format, body);
  return new WireRequest(signal, body);
}

export function decodeTraces(format: WireFormat, body: Uint8Array): ExportTraceServiceRequest {
  return decodeRequest('traces', format, body) as ExportTraceServiceRequest;
}

/** The field of `partial_success` that counts rejected records, per signal. */
const REJECTED_FIELD: Record<Signal, string> = {
  traces: 'rejectedSpans',
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
};

/**
 * Encodes an Export*ServiceResponse. `partial_success` is set only when something was
 * rejected, as the specification asks (an empty response means full success).
 */
export function encodeResponse(signal: Signal, format: WireFormat, rejected: number, errorMessage: string): Uint8Array {
  const type = responseType(signal);
  const body = rejected > 0 || errorMessage !== '' ? { partialSuccess: { [REJECTED_FIELD[signal]]: rejected, errorMessage } } : {};
  if (format === 'protobuf') return type.encode(type.fromObject(body)).finish();
  return Buffer.from(JSON.stringify(type.toObject(type.fromObject(body), { longs: String })));
}

/** google.rpc.Status for error responses, in the request's format. */
export function encodeStatus(format: WireFormat, grpcCode: number, message: string): Uint8Array {
  const type = otlpTypes().Status;
  const msg = type.fromObject({ code: grpcCode, message });
  if (format === 'protobuf') return type.encode(msg).finish();
  return Buffer.from(JSON.stringify({ code: grpcCode, message }));
}
