/**
 * The differential check of the one-pass decoders (test/unit/one-pass-*.test.ts): the daemon's
 * path (the limits walk, then the one-pass decoder when the walk vouched for the body) against
 * the oracle (protobufjs objects, then the object converter). Both must give the same Arrow
 * buffers byte for byte, or the same error code.
 */
import type { Data, RecordBatch } from 'apache-arrow';
import { expect } from 'vitest';
import { S3ParquetError } from '../../src/errors.js';
import type { Signal } from '../../src/otlp/json-ids.js';
import { decodeRequest, prepareRequest } from '../../src/otlp/decode.js';
import { WireRequest } from '../../src/otlp/wire-reader.js';
import type { ConvertedRequest } from '../../src/pipeline/converted.js';

export type Outcome = { error: string } | { converted: ConvertedRequest };

/** How one signal's request becomes rows: from protobufjs objects, and from the wire. */
export interface Converters {
  readonly objects: (request: unknown) => ConvertedRequest;
  readonly wire: (body: Uint8Array) => ConvertedRequest;
}

function outcome(run: () => ConvertedRequest): Outcome {
  try {
    return { converted: run() };
  } catch (err) {
    if (!(err instanceof S3ParquetError)) throw err;
    return { error: err.code };
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
  if ('error' in o) return { error: o.error };
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
    return wire && !('error' in fast);
  };
}
