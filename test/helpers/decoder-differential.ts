/**
 * The differential check of the one-pass decoders (test/unit/one-pass-*.test.ts): the daemon's
 * path (the limits walk, then the one-pass decoder when the walk vouched for the body) against
 * the oracle (protobufjs objects, then the object converter). Both must give the same Arrow
 * buffers byte for byte, or the same error code and message.
 *
 * A decoder that checks the limits in its own pass (traces: `clean`) must give up on exactly
 * the bodies the whole walk does not call complete (it then takes the walk + protobufjs road):
 * never fewer (it would store what the walk refuses), never more (real traffic would pay twice).
 */
import type { Data, RecordBatch } from 'apache-arrow';
import { expect } from 'vitest';
import { S3ParquetError } from '../../src/errors.js';
import type { Signal } from '../../src/otlp/json-ids.js';
import { decodeRequest, prepareRequest } from '../../src/otlp/decode.js';
import { walkProtobuf } from '../../src/otlp/limits.js';
import { otlpTypes } from '../../src/otlp/proto-root.js';
import { WireRequest } from '../../src/otlp/wire-reader.js';
import type { ConvertedRequest } from '../../src/pipeline/converted.js';

export type Outcome = { error: string; message: string } | { converted: ConvertedRequest };

/** How one signal's request becomes rows: from protobufjs objects, and from the wire. */
export interface Converters {
  readonly objects: (request: unknown) => ConvertedRequest;
  readonly wire: (body: Uint8Array) => ConvertedRequest;
  /** For a decoder that checks the limits itself: whether its own pass took the body (no fallback). */
  readonly clean?: (body: Uint8Array) => boolean;
}

const REQUEST_TYPE = { traces: 'ExportTraceServiceRequest', logs: 'ExportLogsServiceRequest', metrics: 'ExportMetricsServiceRequest' } as const;

/** Whether the whole limits walk calls `body` complete (no refusal, nothing odd). */
export function walkComplete(signal: Signal, body: Uint8Array): boolean {
  try {
    return walkProtobuf(otlpTypes()[REQUEST_TYPE[signal]], body, undefined).complete;
  } catch {
    return false;
  }
}

function outcome(run: () => ConvertedRequest): Outcome {
  try {
    return { converted: run() };
  } catch (err) {
    if (!(err instanceof S3ParquetError)) throw err;
    return { error: err.code, message: err.message };
  }
}

/** Every buffer of an Arrow Data tree, as base64 of its bytes, so `toEqual` compares them byte for byte. */
function dump(d: Data): unknown {
  const bytes = (a: ArrayBufferView | undefined | null) => (a === undefined || a === null ? null : Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'));
  return {
    type: String(d.type),
    length: d.length,
    nullCount: d.nullCount,
    values: bytes(d.values as ArrayBufferView | undefined),
    offsets: bytes(d.valueOffsets as ArrayBufferView | undefined),
    nulls: d.nullCount > 0 ? bytes(d.nullBitmap) : null,
    children: d.children.map(dump),
  };
}

/** What `toEqual` compares of an outcome: counts, message and every group's bytes. */
export function summary(o: Outcome): unknown {
  if ('error' in o) return { error: o.error, message: o.message };
  const c = o.converted;
  return {
    accepted: c.accepted,
    rejected: c.rejected,
    errorMessage: c.errorMessage,
    groups: c.groups.map((g) => ({ partition: g.partition, minTime: g.minTime, maxTime: g.maxTime, bytes: g.bytes, schema: String(g.batch.schema), data: dump((g.batch as RecordBatch).data) })),
  };
}

/** `same(body, what)` asserts both paths agree and returns whether the one-pass decoder handled it. */
export function differential(signal: Signal, convert: Converters): (body: Uint8Array, what: string) => boolean {
  return (body, what) => {
    let wire = false;
    const fast = outcome(() => {
      const prepared = prepareRequest(signal, 'protobuf', body);
      wire = prepared instanceof WireRequest;
      return prepared instanceof WireRequest ? convert.wire(prepared.body) : convert.objects(prepared);
    });
    const slow = outcome(() => convert.objects(decodeRequest(signal, 'protobuf', body)));
    expect(summary(fast), what).toEqual(summary(slow));
    if (convert.clean !== undefined) {
      const clean = convert.clean(body);
      expect(clean, `${what}: the checked pass gives up where the walk does`).toBe(walkComplete(signal, body));
      return clean && !('error' in fast);
    }
    return wire && !('error' in fast);
  };
}
