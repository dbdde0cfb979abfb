/**
 * Spans → Jaeger's JSON model (jaegertracing/jaeger model/json/model.go), the way Jaeger's own
 * OTLP translation does it: the parent becomes a CHILD_OF reference and links FOLLOWS_FROM,
 * events become logs (the name under `event`), times are microseconds, the resource becomes a
 * process (`p1`, `p2`, … per distinct resource), and span kind, status and scope become the
 * `span.kind`, `otel.status_code`, `error`, `otel.status_description`, `otel.scope.*` tags.
 */
import type { AttrValue, SpanView } from '../spans/span-view.js';

export interface JaegerKeyValue {
  readonly key: string;
  readonly type: 'string' | 'bool' | 'int64' | 'float64';
  readonly value: string | number | boolean;
}

export interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly flags?: number;
  readonly operationName: string;
  readonly references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  readonly startTime: number;
  readonly duration: number;
  readonly tags: JaegerKeyValue[];
  readonly logs: { timestamp: number; fields: JaegerKeyValue[] }[];
  readonly processID: string;
  readonly warnings: string[] | null;
}

export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: JaegerSpan[];
  readonly processes: Record<string, { serviceName: string; tags: JaegerKeyValue[] }>;
  readonly warnings: string[] | null;
}

export function keyValue(key: string, v: AttrValue): JaegerKeyValue {
  if (typeof v === 'boolean') return { key, type: 'bool', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { key, type: 'int64', value: v } : { key, type: 'float64', value: v };
  return { key, type: 'string', value: v };
}

function micros(ns: bigint): number {
  return Number(ns / 1_000n);
}

function kvs(m: ReadonlyMap<string, AttrValue>): JaegerKeyValue[] {
  return [...m].map(([k, v]) => keyValue(k, v));
}

export function jaegerTrace(traceId: string, spans: readonly SpanView[]): JaegerTrace {
  const processes: Record<string, { serviceName: string; tags: JaegerKeyValue[] }> = {};
  const processIds = new Map<string, string>();
  const out = spans.map((s): JaegerSpan => {
    const pkey = JSON.stringify([s.serviceName, [...s.resource]]);
    let pid = processIds.get(pkey);
    if (pid === undefined) {
      pid = `p${processIds.size + 1}`;
      processIds.set(pkey, pid);
      processes[pid] = { serviceName: s.serviceName ?? '', tags: kvs(new Map([...s.resource].filter(([k]) => k !== 'service.name'))) };
    }
    const tags = kvs(s.attributes);
    if (s.scopeName) tags.push(keyValue('otel.scope.name', s.scopeName));
    if (s.scopeVersion) tags.push(keyValue('otel.scope.version', s.scopeVersion));
    if (s.kind !== 'UNSPECIFIED' && s.kind !== 'INTERNAL') tags.push(keyValue('span.kind', s.kind.toLowerCase()));
    if (s.statusCode !== 'UNSET') tags.push(keyValue('otel.status_code', s.statusCode));
    if (s.statusCode === 'ERROR') tags.push(keyValue('error', true));
    if (s.statusMessage) tags.push(keyValue('otel.status_description', s.statusMessage));
    if (s.traceState) tags.push(keyValue('w3c.tracestate', s.traceState));
    return {
      traceID: s.traceId,
      spanID: s.spanId,
      ...(s.flags ? { flags: s.flags } : {}),
      operationName: s.name,
      references: [
        ...(s.parentSpanId ? [{ refType: 'CHILD_OF' as const, traceID: s.traceId, spanID: s.parentSpanId }] : []),
        ...s.links.map((l) => ({ refType: 'FOLLOWS_FROM' as const, traceID: l.traceId, spanID: l.spanId })),
      ],
      startTime: micros(s.startNs),
      duration: micros(s.durationNs),
      tags,
      logs: s.events.map((e) => ({ timestamp: micros(e.timeNs), fields: [keyValue('event', e.name), ...kvs(e.attributes)] })),
      processID: pid,
      warnings: null,
    };
  });
  return { traceID: traceId, spans: out, processes, warnings: null };
}
