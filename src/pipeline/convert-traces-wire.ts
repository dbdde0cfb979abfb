/**
 * The one-pass traces decoder: ExportTraceServiceRequest protobuf bytes → one Arrow record
 * batch per partition, with no intermediate message objects. Spans are read into a reused
 * `WireSpan` (ranges of the body) and appended into the column builders, copying strings and
 * ids from the body; the resource and scope of a group are decoded once (by protobufjs: they
 * are few) and shared by every span.
 *
 * The request limits are checked in the same pass (limits.ts `WireGuard`): no walk goes over
 * the body first. Whatever the walk would not call complete — malformed bytes, a wrong wire
 * type, too many messages, an encoding protobufjs reads its own way — makes the decoder drop
 * what it read (a per-request collector: nothing reached the buffers) and take the old road,
 * the whole walk then protobufjs (`decodeRequest`), which refuses with the same message or
 * decodes such a body as it always did.
 *
 * It must store exactly what `convertTraces` stores from protobufjs's decoding of the same
 * bytes: test/unit/one-pass-decoder.test.ts proves that on the fuzz corpus, hand-built and
 * recorded exporter requests, and that it gives up on exactly the bodies the walk does not
 * call complete.
 */
import type { Type } from 'protobufjs';
import { decodeRequest } from '../otlp/decode.js';
import { isNotClean, messagePlan, WireGuard, type Plan } from '../otlp/limits.js';
import { loadOtlpRoot, otlpTypes } from '../otlp/proto-root.js';
import type { ExportTraceServiceRequest, InstrumentationScope, Resource } from '../otlp/types.js';
import { WireReader } from '../otlp/wire-reader.js';
import { resourceContext, scopeContext, type ResourceContext } from '../schema/common.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { TracesBatchBuilder, validateWireSpan } from '../schema/traces.js';
import type { AttributesCheck } from '../schema/wire-attributes.js';
import { PART_DEPTH, spanPlans, WireSpan } from '../schema/wire-span.js';
import { convertTraces } from './convert-traces.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import type { Partitioner } from './partitioner.js';

interface SourceTypes {
  readonly resource: Type;
  readonly scope: Type;
  readonly resourcePlan: Plan;
  readonly scopePlan: Plan;
}
let types: SourceTypes | undefined;

function sourceTypes(): SourceTypes {
  if (types === undefined) {
    const root = loadOtlpRoot();
    const resource = root.lookupType('opentelemetry.proto.resource.v1.Resource');
    const scope = root.lookupType('opentelemetry.proto.common.v1.InstrumentationScope');
    types = { resource, scope, resourcePlan: messagePlan(resource), scopePlan: messagePlan(scope) };
  }
  return types;
}

/** Field numbers known to ExportTraceServiceRequest (1), and to ResourceSpans and ScopeSpans (1–3), as bits. */
const REQUEST_FIELDS = 0b10;
const GROUP_FIELDS = 0b1110;
/** The depths at which the whole walk reads a resource's and a scope's fields. */
const RESOURCE_DEPTH = 2;
const SCOPE_DEPTH = 3;

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
  if (partitioner.keysFor('traces').length > 0) return viaProtobufjs(body, partitioner, promoted, receivedNs);
  return convertTracesChecked(body, partitioner, promoted, receivedNs) ?? viaProtobufjs(body, partitioner, promoted, receivedNs);
}

/** The old road: the whole limits walk (its refusals and their messages), then protobufjs. */
function viaProtobufjs(body: Uint8Array, partitioner: Partitioner, promoted: readonly PromotedSpec[], receivedNs: bigint | undefined): ConvertedRequest {
  return convertTraces(decodeRequest('traces', 'protobuf', body) as ExportTraceServiceRequest, partitioner, promoted, receivedNs);
}

/**
 * The one pass, checking as it reads; undefined when the body is not one the limits walk would
 * call complete (see the header). Exported for the differential test.
 */
export function convertTracesChecked(
  body: Uint8Array,
  partitioner: Partitioner,
  promoted: readonly PromotedSpec[],
  receivedNs?: bigint,
): ConvertedRequest | undefined {
  const out = new RequestCollector('span', (rows) => new TracesBatchBuilder(promoted, rows));
  const r = new WireReader(body);
  const guard = new WireGuard(otlpTypes().ExportTraceServiceRequest, body);
  const check: AttributesCheck = { guard, plan: spanPlans().keyValue, depth: PART_DEPTH };
  const span = new WireSpan();
  const end = body.length;
  try {
    while (r.pos < end) {
      const tag = r.tagIn(end);
      if (tag !== 0x0a) {
        r.skipIn(tag, end, REQUEST_FIELDS);
        continue;
      }
      const e = r.lengthIn(end);
      guard.add(1);
      resourceSpans(r, r.pos, e, span, out, partitioner, receivedNs, check);
      r.pos = e;
    }
  } catch (err) {
    if (isNotClean(err)) return undefined;
    throw err;
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

/**
 * Reads a ResourceSpans or ScopeSpans in [start, end), checked: each field 1 (every one, also
 * those a later one replaces) is walked by `guard` along `headPlan` at `headDepth`; the
 * children are counted here and checked as they are read.
 */
function readGroup(r: WireReader, start: number, end: number, guard: WireGuard, headPlan: Plan, headDepth: number): Group {
  const g: Group = { head0: -1, head1: -1, url0: 0, url1: 0, children: [] };
  r.pos = start;
  while (r.pos < end) {
    const tag = r.tagIn(end);
    if (tag === 0x0a) {
      g.head1 = r.lengthIn(end);
      g.head0 = r.pos;
      guard.add(1);
      guard.message(headPlan, g.head0, g.head1, headDepth);
      r.pos = g.head1;
    } else if (tag === 0x12) {
      const e = r.lengthIn(end);
      guard.add(1); // counted as met: a bomb of empty children stops at the limit, not after listing them all
      g.children.push(r.pos, e);
      r.pos = e;
    } else if (tag === 0x1a) {
      g.url1 = r.lengthIn(end);
      g.url0 = r.pos;
      r.pos = g.url1;
    } else r.skipIn(tag, end, GROUP_FIELDS);
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
  check: AttributesCheck,
): void {
  const t = sourceTypes();
  const g = readGroup(r, start, end, check.guard, t.resourcePlan, RESOURCE_DEPTH);
  const decoded = g.head0 >= 0 ? (t.resource.decode(r.buf.subarray(g.head0, g.head1)) as unknown as Resource) : null;
  const resource = resourceContext(decoded, r.text(g.url0, g.url1));
  const scopes = g.children;
  for (let i = 0; i < scopes.length; i += 2) scopeSpans(r, scopes[i]!, scopes[i + 1]!, resource, span, out, partitioner, receivedNs, check);
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
  check: AttributesCheck,
): void {
  const t = sourceTypes();
  const guard = check.guard;
  const g = readGroup(r, start, end, guard, t.scopePlan, SCOPE_DEPTH);
  const decoded = g.head0 >= 0 ? (t.scope.decode(r.buf.subarray(g.head0, g.head1)) as unknown as InstrumentationScope) : null;
  const spans = g.children;
  const scope = scopeContext(decoded, r.text(g.url0, g.url1));
  const service = resource.serviceName;
  for (let i = 0; i < spans.length; i += 2) {
    span.read(r, spans[i]!, spans[i + 1]!, guard);
    const problem = validateWireSpan(span, r.buf);
    if (problem !== null) {
      span.checkParts(guard); // a refused span's bytes are checked all the same
      out.reject(problem);
      continue;
    }
    // The same event-time window as convertTraces: a time outside it is refused, never clamped.
    // Clamped first as protobufjs's path does (unixNanoToBigInt; WireSpan clamps), so both refuse with one message.
    const at = partitioner.placeTime(span.start, receivedNs);
    if (typeof at === 'string') {
      span.checkParts(guard);
      out.reject(`startTimeUnixNano: ${at}`);
      continue;
    }
    const path = partitioner.pathFor(at, service);
    out.builder(path, (spans.length - i) >> 1).appendWire(resource, scope, span, r, check);
    out.accept();
  }
}
