/** Hand-built OTLP requests, for cases the SDK cannot produce (bytes attributes, bad ids). */
import { otlpTypes } from '../../src/otlp/proto-root.js';

export const T0_NS = 1704067500_000000000n; // 2024-01-01T00:05:00Z

export interface JsonSpanOptions {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  startNs?: bigint;
  attributes?: unknown[];
}

let counter = 1;

export function hexId(bytes: number, seed = counter++): string {
  return seed.toString(16).padStart(bytes * 2, '0');
}

/** One span in OTLP/JSON form (hex ids, int64 as strings, enums as integers). */
export function jsonSpan(o: JsonSpanOptions = {}): Record<string, unknown> {
  const start = o.startNs ?? T0_NS;
  return {
    traceId: o.traceId ?? hexId(16),
    spanId: o.spanId ?? hexId(8),
    ...(o.parentSpanId !== undefined ? { parentSpanId: o.parentSpanId } : {}),
    name: o.name ?? 'op',
    kind: 2,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + 1000n).toString(),
    attributes: o.attributes ?? [],
    status: { code: 0 },
  };
}

export function jsonTraceRequest(spans: Record<string, unknown>[], service = 'svc'): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'hand-built' }, spans }],
      },
    ],
  };
}

/** The same request encoded as protobuf, through our own proto definitions. */
export function protobufTraceRequest(json: Record<string, unknown>): Uint8Array {
  const type = otlpTypes().ExportTraceServiceRequest;
  const copy = JSON.parse(JSON.stringify(json)) as Record<string, unknown>;
  // fromObject wants bytes as base64; OTLP/JSON has hex.
  for (const rs of copy.resourceSpans as { scopeSpans: { spans: Record<string, unknown>[] }[] }[])
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans)
        for (const f of ['traceId', 'spanId', 'parentSpanId'])
          if (typeof s[f] === 'string') s[f] = Buffer.from(s[f] as string, 'hex').toString('base64');
  return type.encode(type.fromObject(copy)).finish();
}

export function decodeStatus(body: Uint8Array): { code: number; message: string } {
  const t = otlpTypes().Status;
  return t.toObject(t.decode(body)) as { code: number; message: string };
}

export function decodeTraceResponse(body: Uint8Array): Record<string, unknown> {
  const t = otlpTypes().ExportTraceServiceResponse;
  return t.toObject(t.decode(body), { longs: Number }) as Record<string, unknown>;
}
