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
import { decodeRequest } from '../otlp/decode.js';
import { isNotClean, WireGuard } from '../otlp/limits.js';
import { otlpTypes } from '../otlp/proto-root.js';
import type { ExportTraceServiceRequest } from '../otlp/types.js';
import { groupResource, groupScope, headPlans, readRequestGroupsChecked, readWireGroupChecked, RESOURCE_DEPTH, SCOPE_DEPTH } from '../otlp/wire-group.js';
import { WireReader } from '../otlp/wire-reader.js';
import { resourceContext, scopeContext, type ResourceContext } from '../schema/common.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { TracesBatchBuilder, validateWireSpan } from '../schema/traces.js';
import type { AttributesCheck } from '../schema/wire-attributes.js';
import { PART_DEPTH, spanPlans, WireSpan } from '../schema/wire-span.js';
import { convertTraces } from './convert-traces.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import type { Partitioner } from './partitioner.js';

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
  try {
    const groups = readRequestGroupsChecked(r, guard);
    for (let i = 0; i < groups.length; i += 2) resourceSpans(r, groups[i]!, groups[i + 1]!, span, out, partitioner, receivedNs, check);
  } catch (err) {
    if (isNotClean(err)) return undefined;
    throw err;
  }
  return out.result();
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
  const g = readWireGroupChecked(r, start, end, check.guard, headPlans().resource, RESOURCE_DEPTH);
  const resource = resourceContext(groupResource(r, g), r.text(g.url0, g.url1));
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
  const guard = check.guard;
  const g = readWireGroupChecked(r, start, end, guard, headPlans().scope, SCOPE_DEPTH);
  const spans = g.children;
  const scope = scopeContext(groupScope(r, g), r.text(g.url0, g.url1));
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
