/**
 * The one-pass traces decoder: ExportTraceServiceRequest protobuf bytes → one Arrow record
 * batch per partition, with no intermediate message objects. Spans are read into a reused
 * `WireSpan` (ranges of the body) and appended into the column builders, copying strings and
 * ids from the body; the resource and scope of a group are decoded once (by protobufjs: they
 * are few) and shared by every span.
 *
 * It runs only on bodies the limits walk went through completely (decode.ts `prepareRequest`),
 * and must store exactly what `convertTraces` stores from protobufjs's decoding of the same
 * bytes: test/unit/one-pass-decoder.test.ts proves that on the fuzz corpus, hand-built and
 * recorded exporter requests.
 */
import type { Type } from 'protobufjs';
import { loadOtlpRoot, otlpTypes } from '../otlp/proto-root.js';
import type { ExportTraceServiceRequest, InstrumentationScope, Resource } from '../otlp/types.js';
import { WireReader } from '../otlp/wire-reader.js';
import { resourceContext, scopeContext, type ResourceContext } from '../schema/common.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { TracesBatchBuilder, validateWireSpan } from '../schema/traces.js';
import { WireSpan } from '../schema/wire-span.js';
import { convertTraces } from './convert-traces.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import type { Partitioner } from './partitioner.js';

let types: { resource: Type; scope: Type } | undefined;

function sourceTypes(): { resource: Type; scope: Type } {
  if (types === undefined) {
    const root = loadOtlpRoot();
    types = {
      resource: root.lookupType('opentelemetry.proto.resource.v1.Resource'),
      scope: root.lookupType('opentelemetry.proto.common.v1.InstrumentationScope'),
    };
  }
  return types;
}

/** A length-delimited field's value range: [r.pos, returned end). */
function lengthEnd(r: WireReader): number {
  return r.varint() + r.pos;
}

export function convertTracesWire(
  body: Uint8Array,
  partitioner: Partitioner,
  promoted: readonly PromotedSpec[],
  /** When the request arrived: the event-time window is around it (omitted: no window). */
  receivedNs?: bigint,
): ConvertedRequest {
  // `[[partitioning.keys]]` read span fields through the decoded shape; those setups keep it.
  if (partitioner.keysFor('traces').length > 0) {
    return convertTraces(otlpTypes().ExportTraceServiceRequest.decode(body) as unknown as ExportTraceServiceRequest, partitioner, promoted, receivedNs);
  }
  const out = new RequestCollector('span', (rows) => new TracesBatchBuilder(promoted, rows));
  const r = new WireReader(body);
  const span = new WireSpan();
  const end = body.length;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag !== 0x0a) {
      r.skip(tag & 7);
      continue;
    }
    const e = lengthEnd(r);
    resourceSpans(r, r.pos, e, span, out, partitioner, receivedNs);
    r.pos = e;
  }
  return out.result();
}

/**
 * ResourceSpans and ScopeSpans share one shape: field 1 the message they describe (resource,
 * scope), field 2 their repeated children (scope groups, spans), field 3 a schema URL.
 */
interface Group {
  /** Range of field 1; head0 = -1 when absent. A later field 1 replaces an earlier one, as in protobufjs. */
  head0: number;
  head1: number;
  url0: number;
  url1: number;
  /** Children's ranges as [start, end] pairs. */
  children: number[];
}

function readGroup(r: WireReader, start: number, end: number): Group {
  const g: Group = { head0: -1, head1: -1, url0: 0, url1: 0, children: [] };
  r.pos = start;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x0a) {
      g.head1 = lengthEnd(r);
      g.head0 = r.pos;
      r.pos = g.head1;
    } else if (tag === 0x12) {
      const e = lengthEnd(r);
      g.children.push(r.pos, e);
      r.pos = e;
    } else if (tag === 0x1a) {
      g.url1 = lengthEnd(r);
      g.url0 = r.pos;
      r.pos = g.url1;
    } else r.skip(tag & 7);
  }
  return g;
}

function resourceSpans(
  r: WireReader,
  start: number,
  end: number,
  span: WireSpan,
  out: RequestCollector<TracesBatchBuilder>,
  partitioner: Partitioner,
  receivedNs: bigint | undefined,
): void {
  const g = readGroup(r, start, end);
  const decoded = g.head0 >= 0 ? (sourceTypes().resource.decode(r.buf.subarray(g.head0, g.head1)) as unknown as Resource) : null;
  const resource = resourceContext(decoded, r.text(g.url0, g.url1));
  const scopes = g.children;
  for (let i = 0; i < scopes.length; i += 2) scopeSpans(r, scopes[i]!, scopes[i + 1]!, resource, span, out, partitioner, receivedNs);
}

function scopeSpans(
  r: WireReader,
  start: number,
  end: number,
  resource: ResourceContext,
  span: WireSpan,
  out: RequestCollector<TracesBatchBuilder>,
  partitioner: Partitioner,
  receivedNs: bigint | undefined,
): void {
  const g = readGroup(r, start, end);
  const decoded = g.head0 >= 0 ? (sourceTypes().scope.decode(r.buf.subarray(g.head0, g.head1)) as unknown as InstrumentationScope) : null;
  const spans = g.children;
  const scope = scopeContext(decoded, r.text(g.url0, g.url1));
  const service = resource.serviceName;
  for (let i = 0; i < spans.length; i += 2) {
    span.read(r, spans[i]!, spans[i + 1]!);
    const problem = validateWireSpan(span, r.buf);
    if (problem !== null) {
      out.reject(problem);
      continue;
    }
    // The same event-time window as convertTraces: a time outside it is refused, never clamped.
    // Clamped first as protobufjs's path does (unixNanoToBigInt; WireSpan clamps), so both refuse with one message.
    const at = partitioner.placeTime(span.start, receivedNs);
    if (typeof at === 'string') {
      out.reject(`startTimeUnixNano: ${at}`);
      continue;
    }
    const path = partitioner.pathFor(at, service);
    out.builder(path, (spans.length - i) >> 1).appendWire(resource, scope, span, r);
    out.accept();
  }
}
