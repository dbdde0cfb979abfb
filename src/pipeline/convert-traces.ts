/**
 * ExportTraceServiceRequest → one Arrow record batch per partition.
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
import type { ConvertedRequest, PartitionGroup } from './converted.js';

export function convertTraces(
  request: ExportTraceServiceRequest,
  partitioner: Partitioner,
  promoted: readonly PromotedSpec[],
): ConvertedRequest {
  const builders = new Map<string, TracesBatchBuilder>();
  let accepted = 0;
  let rejected = 0;
  let errorMessage = '';
  for (const rs of request.resourceSpans) {
    const resource = resourceContext(rs.resource, rs.schemaUrl);
    for (const ss of rs.scopeSpans) {
      const scope = scopeContext(ss.scope, ss.schemaUrl);
      for (const span of ss.spans) {
        const problem = validateSpan(span);
        if (problem !== null) {
          rejected++;
          if (errorMessage === '') errorMessage = `span ${accepted + rejected - 1}: ${problem}`;
          continue;
        }
        const start = unixNanoToBigInt(span.startTimeUnixNano);
        const partition = partitioner.pathFor(start, resource.serviceName);
        let builder = builders.get(partition);
        if (builder === undefined) {
          builder = new TracesBatchBuilder(promoted);
          builders.set(partition, builder);
        }
        builder.append(resource, scope, span, start);
        accepted++;
      }
    }
  }
  const groups: PartitionGroup[] = [];
  for (const [partition, b] of builders) {
    const bytes = b.byteSize();
    groups.push({ partition, batch: b.finish(), bytes, minTime: b.minTime, maxTime: b.maxTime });
  }
  return { groups, accepted, rejected, errorMessage };
}
