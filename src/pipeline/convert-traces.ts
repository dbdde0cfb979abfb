/**
 * ExportTraceServiceRequest → one Arrow record batch per partition (by span start time).
 *
 * Spans are validated one by one: a span that cannot be stored is counted and skipped (OTLP
 * partial success), the rest of the request is stored.
 */
import { resourceContext, scopeContext } from '../schema/common.js';
import { TracesBatchBuilder, validateSpan } from '../schema/traces.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { unixNanoToBigInt } from '../otlp/values.js';
import type { ExportTraceServiceRequest } from '../otlp/types.js';
import type { Partitioner } from './partitioner.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import { spanKeyFields } from './key-fields.js';

export function convertTraces(
  request: ExportTraceServiceRequest,
  partitioner: Partitioner,
  promoted: readonly PromotedSpec[],
  /** When the request arrived: the event-time window is around it (omitted: no window). */
  receivedNs?: bigint,
): ConvertedRequest {
  const out = new RequestCollector('span', () => new TracesBatchBuilder(promoted));
  const keys = partitioner.keysFor('traces');
  for (const rs of request.resourceSpans) {
    const resource = resourceContext(rs.resource, rs.schemaUrl);
    for (const ss of rs.scopeSpans) {
      const scope = scopeContext(ss.scope, ss.schemaUrl);
      for (const span of ss.spans) {
        const problem = validateSpan(span);
        if (problem !== null) {
          out.reject(problem);
          continue;
        }
        const start = unixNanoToBigInt(span.startTimeUnixNano);
        const at = partitioner.placeTime(start, receivedNs);
        if (typeof at === 'string') {
          out.reject(`startTimeUnixNano: ${at}`);
          continue;
        }
        const fields = keys.length > 0 ? spanKeyFields(resource, span, start) : undefined;
        out.builder(partitioner.pathFor(at, resource.serviceName, keys, fields)).append(resource, scope, span, start);
        out.accept();
      }
    }
  }
  return out.result();
}
