/**
 * A span as the read APIs (Tempo, Jaeger) see it, rebuilt from a `traces` record: times as
 * bigint nanoseconds, promoted columns put back under their attribute keys, so every answer
 * carries what the client sent (attribute maps hold text: the OTLP type of a value that was not
 * promoted is not stored, so such values come back as strings).
 */
import type { JsonValue } from '../json-values.js';
import { isResourceSpec, type PromotedSpec } from '../../schema/promoted.js';
import { parseRfc3339Ns } from '../time.js';

/** An attribute value: typed when a promoted column kept its type, else its stored text. */
export type AttrValue = string | number | boolean;

export interface SpanEvent {
  readonly timeNs: bigint;
  readonly name: string;
  readonly attributes: ReadonlyMap<string, AttrValue>;
}

export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string | null;
  readonly attributes: ReadonlyMap<string, AttrValue>;
}

export interface SpanView {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly traceState: string | null;
  readonly flags: number;
  readonly name: string;
  /** SERVER, CLIENT, … as stored. */
  readonly kind: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly durationNs: bigint;
  /** UNSET, OK or ERROR. */
  readonly statusCode: string;
  readonly statusMessage: string | null;
  readonly serviceName: string | null;
  readonly resource: ReadonlyMap<string, AttrValue>;
  readonly scopeName: string | null;
  readonly scopeVersion: string | null;
  readonly attributes: ReadonlyMap<string, AttrValue>;
  readonly events: readonly SpanEvent[];
  readonly links: readonly SpanLink[];
}

/** The columns a full span needs (promoted columns are added from the catalog). */
export const SPAN_COLUMNS: readonly string[] = [
  'trace_id', 'span_id', 'parent_span_id', 'trace_state', 'flags', 'name', 'kind', 'start_time', 'end_time', 'duration_ns',
  'status_code', 'status_message', 'service_name', 'resource_attributes', 'scope_name', 'scope_version', 'attributes', 'events', 'links',
];

/** What a trace's outline needs (root, start, end): a cheap second read. */
export const OUTLINE_COLUMNS: readonly string[] = ['trace_id', 'span_id', 'parent_span_id', 'name', 'service_name', 'start_time', 'end_time'];

type Rec = Readonly<Record<string, JsonValue>>;

function text(v: JsonValue | undefined): string | null {
  return typeof v === 'string' ? v : v === null || v === undefined ? null : String(v);
}

function ns(v: JsonValue | undefined): bigint {
  if (typeof v === 'string') {
    const t = parseRfc3339Ns(v);
    if (t !== null) return t;
    if (/^-?\d+$/.test(v)) return BigInt(v);
  }
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return 0n;
}

function attrMap(v: JsonValue | undefined): Map<string, AttrValue> {
  const out = new Map<string, AttrValue>();
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, x] of Object.entries(v)) if (x !== null) out.set(k, typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? x : JSON.stringify(x));
  return out;
}

/** The span of a record holding (at least) the OUTLINE_COLUMNS; absent columns read as empty. */
export function spanFromRecord(rec: Rec, promoted: readonly PromotedSpec[] = []): SpanView {
  const attributes = attrMap(rec.attributes);
  const resource = attrMap(rec.resource_attributes);
  for (const p of promoted) {
    const v = rec[p.column];
    if (v === null || v === undefined) continue;
    // A 64-bit value beyond 2^53 arrives as text; keep it exact as text. A resource column
    // (schema version 2) goes back into the resource's map; a file of version 1 has none.
    (isResourceSpec(p) ? resource : attributes).set(p.attribute, typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : JSON.stringify(v));
  }
  const events = Array.isArray(rec.events)
    ? rec.events.map((e) => {
        const o = (e ?? {}) as Rec;
        return { timeNs: ns(o.time), name: text(o.name) ?? '', attributes: attrMap(o.attributes) };
      })
    : [];
  const links = Array.isArray(rec.links)
    ? rec.links.map((l) => {
        const o = (l ?? {}) as Rec;
        return { traceId: text(o.trace_id) ?? '', spanId: text(o.span_id) ?? '', traceState: text(o.trace_state), attributes: attrMap(o.attributes) };
      })
    : [];
  const startNs = ns(rec.start_time);
  const endNs = rec.end_time === undefined ? startNs : ns(rec.end_time);
  return {
    traceId: text(rec.trace_id) ?? '',
    spanId: text(rec.span_id) ?? '',
    parentSpanId: text(rec.parent_span_id),
    traceState: text(rec.trace_state),
    flags: typeof rec.flags === 'number' ? rec.flags : 0,
    name: text(rec.name) ?? '',
    kind: text(rec.kind) ?? 'UNSPECIFIED',
    startNs,
    endNs,
    durationNs: rec.duration_ns === undefined || rec.duration_ns === null ? endNs - startNs : ns(rec.duration_ns),
    statusCode: text(rec.status_code) ?? 'UNSET',
    statusMessage: text(rec.status_message),
    serviceName: text(rec.service_name),
    resource,
    scopeName: text(rec.scope_name),
    scopeVersion: text(rec.scope_version),
    attributes,
    events,
    links,
  };
}

/** Span columns plus the catalog's promoted ones. */
export function spanColumns(promoted: readonly PromotedSpec[]): string[] {
  return [...SPAN_COLUMNS, ...promoted.map((p) => p.column)];
}
