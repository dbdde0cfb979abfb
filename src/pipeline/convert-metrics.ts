/**
 * ExportMetricsServiceRequest → one Arrow record batch per partition.
 *
 * Data points are validated one by one: a point that cannot be stored is counted and skipped
 * (OTLP partial success), the rest of the request is stored. A Metric with no data set has no
 * points to count, so it counts as one rejected point: otherwise the client would never learn
 * that what it sent was dropped.
 */
import { resourceContext, scopeContext } from '../schema/common.js';
import {
  MetricsBatchBuilder,
  dataPointsOf,
  metricContext,
  validateDataPoint,
  validateMetric,
  type MetricContext,
} from '../schema/metrics.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { unixNanoToBigInt } from '../otlp/values.js';
import type { ExportMetricsServiceRequest } from '../otlp/metric-types.js';
import type { Partitioner } from './partitioner.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import { metricKeyFields } from './key-fields.js';

export function convertMetrics(
  request: ExportMetricsServiceRequest,
  partitioner: Partitioner,
  promoted: readonly PromotedSpec[],
  /** When the request arrived: the event-time window is around it (omitted: no window). */
  receivedNs?: bigint,
): ConvertedRequest {
  const out = new RequestCollector('point', () => new MetricsBatchBuilder(promoted));
  const keys = partitioner.keysFor('metrics');
  for (const rm of request.resourceMetrics) {
    const resource = resourceContext(rm.resource, rm.schemaUrl);
    for (const sm of rm.scopeMetrics) {
      const scope = scopeContext(sm.scope, sm.schemaUrl);
      for (const metric of sm.metrics) {
        if (metric.data === undefined) {
          out.reject(validateMetric(metric)!);
          continue;
        }
        // Prepared lazily: a metric whose points are all rejected never needs it.
        let context: MetricContext | undefined;
        for (const point of dataPointsOf(metric)) {
          const problem = validateDataPoint(metric, point);
          if (problem !== null) {
            out.reject(problem);
            continue;
          }
          context ??= metricContext(metric);
          const time = unixNanoToBigInt(point.timeUnixNano);
          const at = partitioner.placeTime(time, receivedNs);
          if (typeof at === 'string') {
            out.reject(`timeUnixNano: ${at}`);
            continue;
          }
          const fields = keys.length > 0 ? metricKeyFields(resource, metric.name, context.type) : undefined;
          out.builder(partitioner.pathFor(at, resource.serviceName, keys, fields)).append(resource, scope, context, point, time);
          out.accept();
        }
      }
    }
  }
  return out.result();
}
