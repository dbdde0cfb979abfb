/**
 * Spans → OTLP `TracesData`, as OTLP/JSON (hex ids, enum numbers, 64-bit times as decimal text)
 * or as protobuf bytes. Tempo's `tempopb.Trace` is wire-identical to `TracesData` (field 1,
 * repeated ResourceSpans), so the same bytes serve Tempo's protobuf answers.
 */
import type { Type } from 'protobufjs';
import { loadOtlpRoot } from '../../otlp/proto-root.js';
import { SPAN_KINDS, STATUS_CODES } from '../../schema/traces.js';
import type { AttrValue, SpanView } from './span-view.js';

type AnyValueJson = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
export interface KeyValueJson {
  readonly key: string;
  readonly value: AnyValueJson;
}

export function anyValue(v: AttrValue): AnyValueJson {
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { stringValue: v };
}

export function keyValues(m: ReadonlyMap<string, AttrValue>): KeyValueJson[] {
  return [...m].map(([key, v]) => ({ key, value: anyValue(v) }));
}

function enumIndex(names: readonly string[], name: string): number {
  const i = names.indexOf(name);
  return i < 0 ? 0 : i;
}

function spanJson(s: SpanView): Record<string, unknown> {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    ...(s.traceState ? { traceState: s.traceState } : {}),
    ...(s.flags ? { flags: s.flags } : {}),
    name: s.name,
    kind: enumIndex(SPAN_KINDS, s.kind),
    startTimeUnixNano: s.startNs.toString(),
    endTimeUnixNano: s.endNs.toString(),
    attributes: keyValues(s.attributes),
    events: s.events.map((e) => ({ timeUnixNano: e.timeNs.toString(), name: e.name, attributes: keyValues(e.attributes) })),
    links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, ...(l.traceState ? { traceState: l.traceState } : {}), attributes: keyValues(l.attributes) })),
    status: { code: enumIndex(STATUS_CODES, s.statusCode), ...(s.statusMessage ? { message: s.statusMessage } : {}) },
  };
}

/** Spans grouped by resource, then scope, in the order first seen: OTLP/JSON `resourceSpans`. */
export function resourceSpansJson(spans: readonly SpanView[]): Record<string, unknown>[] {
  const byResource = new Map<string, { resource: SpanView; scopes: Map<string, { scope: SpanView; spans: SpanView[] }> }>();
  for (const s of spans) {
    const rkey = JSON.stringify([s.serviceName, [...s.resource]]);
    let r = byResource.get(rkey);
    if (!r) byResource.set(rkey, (r = { resource: s, scopes: new Map() }));
    const skey = JSON.stringify([s.scopeName, s.scopeVersion]);
    let sc = r.scopes.get(skey);
    if (!sc) r.scopes.set(skey, (sc = { scope: s, spans: [] }));
    sc.spans.push(s);
  }
  return [...byResource.values()].map((r) => {
    const resource = new Map(r.resource.resource);
    if (r.resource.serviceName !== null && !resource.has('service.name')) resource.set('service.name', r.resource.serviceName);
    return {
      resource: { attributes: keyValues(resource) },
      scopeSpans: [...r.scopes.values()].map((sc) => ({
        scope: { ...(sc.scope.scopeName ? { name: sc.scope.scopeName } : {}), ...(sc.scope.scopeVersion ? { version: sc.scope.scopeVersion } : {}) },
        spans: sc.spans.map(spanJson),
      })),
    };
  });
}

let tracesData: Type | undefined;

/** OTLP/JSON ids are hex; protobufjs's `fromObject` wants bytes, so convert them on the way in. */
function toProtoObject(rs: Record<string, unknown>[]): Record<string, unknown> {
  const hex = (v: unknown): Buffer | undefined => (typeof v === 'string' && v !== '' ? Buffer.from(v, 'hex') : undefined);
  const fixSpan = (s: Record<string, unknown>): Record<string, unknown> => ({
    ...s,
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
    links: (s.links as Record<string, unknown>[]).map((l) => ({ ...l, traceId: hex(l.traceId), spanId: hex(l.spanId) })),
  });
  return {
    resourceSpans: rs.map((r) => ({
      ...r,
      scopeSpans: (r.scopeSpans as Record<string, unknown>[]).map((sc) => ({ ...sc, spans: (sc.spans as Record<string, unknown>[]).map(fixSpan) })),
    })),
  };
}

/** Protobuf `TracesData` (= `tempopb.Trace`) of the spans. */
export function tracesDataProto(spans: readonly SpanView[]): Uint8Array {
  tracesData ??= loadOtlpRoot().lookupType('opentelemetry.proto.trace.v1.TracesData');
  return tracesData.encode(tracesData.fromObject(toProtoObject(resourceSpansJson(spans)))).finish();
}
