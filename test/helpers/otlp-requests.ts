/**
 * Hand-built OTLP/JSON requests for all three signals, each with records that must be stored
 * and one that must be rejected, and a protobuf encoder for them (ids hex → bytes).
 */
import { otlpTypes } from '../../src/otlp/proto-root.js';
import { convertJsonIds, type Signal } from '../../src/otlp/json-ids.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from './otlp.js';

const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });

/** A request for `signal` with `good` storable records, then one with a bad id. */
export function requestWithOneBad(signal: Signal, tag: string, good = 2): Record<string, unknown> {
  switch (signal) {
    case 'traces':
      return jsonTraceRequest([...Array.from({ length: good }, () => jsonSpan({ name: tag })), jsonSpan({ name: tag, traceId: 'abcd' })], tag);
    case 'logs':
      return {
        resourceLogs: [
          {
            resource: resource(tag),
            scopeLogs: [
              {
                scope: { name: 'hand' },
                logRecords: [
                  ...Array.from({ length: good }, (_, i) => ({ timeUnixNano: (T0_NS + BigInt(i)).toString(), body: { stringValue: tag }, traceId: hexId(16) })),
                  { timeUnixNano: T0_NS.toString(), body: { stringValue: tag }, spanId: 'abcdef' },
                ],
              },
            ],
          },
        ],
      };
    case 'metrics':
      return {
        resourceMetrics: [
          {
            resource: resource(tag),
            scopeMetrics: [
              {
                scope: { name: 'hand' },
                metrics: [
                  { name: tag, gauge: { dataPoints: Array.from({ length: good }, (_, i) => ({ timeUnixNano: (T0_NS + BigInt(i)).toString(), asInt: String(i) })) } },
                  {
                    name: tag,
                    gauge: { dataPoints: [{ timeUnixNano: T0_NS.toString(), asDouble: 1, exemplars: [{ timeUnixNano: T0_NS.toString(), asDouble: 1, traceId: 'ff' }] }] },
                  },
                ],
              },
            ],
          },
        ],
      };
  }
}

const REQUEST_TYPE = {
  traces: () => otlpTypes().ExportTraceServiceRequest,
  logs: () => otlpTypes().ExportLogsServiceRequest,
  metrics: () => otlpTypes().ExportMetricsServiceRequest,
} as const;

/** Protobuf bytes of an OTLP/JSON request (hex ids become bytes, as the receiver does). */
export function toProtobuf(signal: Signal, json: Record<string, unknown>): Uint8Array {
  const copy = JSON.parse(JSON.stringify(json)) as Record<string, unknown>;
  convertJsonIds(signal, copy);
  const type = REQUEST_TYPE[signal]();
  return type.encode(type.fromObject(copy)).finish();
}

export function decodeResponse(signal: Signal, body: Uint8Array): Record<string, unknown> {
  const t = { traces: otlpTypes().ExportTraceServiceResponse, logs: otlpTypes().ExportLogsServiceResponse, metrics: otlpTypes().ExportMetricsServiceResponse }[signal];
  return t.toObject(t.decode(body), { longs: Number }) as Record<string, unknown>;
}
