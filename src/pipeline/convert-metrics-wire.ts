/**
 * The one-pass metrics decoder: ExportMetricsServiceRequest protobuf bytes → one Arrow record
 * batch per partition, with no intermediate message objects for data points. Each Metric's
 * header (name, description, unit, metadata, type, temporality) becomes one `MetricContext`,
 * through the same `metricContext` as the protobufjs path; its points are read into a reused
 * `WireDataPoint` and appended straight into the column builders.
 *
 * The request limits are checked in the same pass (limits.ts `WireGuard`), as in the traces and
 * logs decoders: a body the walk would not call complete is dropped (nothing reached the
 * buffers) and goes the walk + protobufjs way (`decodeRequest`), with the same refusals and
 * messages. It must store exactly what `convertMetrics` stores from protobufjs's decoding of
 * the same bytes: test/unit/one-pass-metrics.test.ts proves that on the fuzz corpus, hand-built
 * requests of every metric type and recorded exporter requests, and that it gives up on exactly
 * the bodies the walk does not call complete.
 */
import { decodeRequest } from '../otlp/decode.js';
import { isNotClean, WireGuard } from '../otlp/limits.js';
import type { ExportMetricsServiceRequest, Metric, MetricDataKind } from '../otlp/metric-types.js';
import { otlpTypes } from '../otlp/proto-root.js';
import { decodeKeyValues, groupResource, groupScope, headPlans, readRequestGroupsChecked, readWireGroupChecked, RESOURCE_DEPTH, SCOPE_DEPTH } from '../otlp/wire-group.js';
import { clampToInt64 } from '../otlp/values.js';
import { WireReader } from '../otlp/wire-reader.js';
import { resourceContext, scopeContext, type ResourceContext, type ScopeContext } from '../schema/common.js';
import { MetricsBatchBuilder, metricContext, validateMetric, type MetricContext } from '../schema/metrics.js';
import type { PromotedSpec } from '../schema/promoted.js';
import type { AttributesCheck } from '../schema/wire-attributes.js';
import { EXPONENTIAL_HISTOGRAM, GAUGE, HISTOGRAM, metricPlans, POINT_PART_DEPTH, SUM, SUMMARY, WireDataPoint } from '../schema/wire-data-point.js';
import { WireExemplars } from '../schema/wire-exemplar.js';
import { WireMetric } from '../schema/wire-metric.js';
import { convertMetrics } from './convert-metrics.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import type { Partitioner } from './partitioner.js';

const KINDS: Readonly<Record<number, MetricDataKind>> = {
  [GAUGE]: 'gauge',
  [SUM]: 'sum',
  [HISTOGRAM]: 'histogram',
  [EXPONENTIAL_HISTOGRAM]: 'exponentialHistogram',
  [SUMMARY]: 'summary',
};

/** The Metric shape `metricContext` and `validateMetric` read, without its points. */
function metricHead(r: WireReader, m: WireMetric): Metric {
  const kind = m.kind === 0 ? undefined : KINDS[m.kind];
  const data = { dataPoints: [], aggregationTemporality: m.temporality, isMonotonic: m.isMonotonic };
  return {
    name: r.text(m.name0, m.name1),
    description: r.text(m.description0, m.description1),
    unit: r.text(m.unit0, m.unit1),
    data: kind,
    gauge: kind === 'gauge' ? data : null,
    sum: kind === 'sum' ? data : null,
    histogram: kind === 'histogram' ? data : null,
    exponentialHistogram: kind === 'exponentialHistogram' ? data : null,
    summary: kind === 'summary' ? data : null,
    metadata: m.metadata.length === 0 ? [] : decodeKeyValues(r, m.metadata.starts, m.metadata.ends, m.metadata.length),
  };
}

export function convertMetricsWire(body: Uint8Array, partitioner: Partitioner, promoted: readonly PromotedSpec[], receivedNs?: bigint): ConvertedRequest {
  // `[[partitioning.keys]]` read point fields through the decoded shape; those setups keep it.
  if (partitioner.keysFor('metrics').length > 0) return viaProtobufjs(body, partitioner, promoted, receivedNs);
  return convertMetricsChecked(body, partitioner, promoted, receivedNs) ?? viaProtobufjs(body, partitioner, promoted, receivedNs);
}

/** The old road: the whole limits walk (its refusals and their messages), then protobufjs. */
function viaProtobufjs(body: Uint8Array, partitioner: Partitioner, promoted: readonly PromotedSpec[], receivedNs: bigint | undefined): ConvertedRequest {
  return convertMetrics(decodeRequest('metrics', 'protobuf', body) as ExportMetricsServiceRequest, partitioner, promoted, receivedNs);
}

/**
 * The one pass, checking as it reads; undefined when the body is not one the limits walk would
 * call complete. Exported for the differential test.
 */
export function convertMetricsChecked(body: Uint8Array, partitioner: Partitioner, promoted: readonly PromotedSpec[], receivedNs?: bigint): ConvertedRequest | undefined {
  const out = new RequestCollector('point', (rows) => new MetricsBatchBuilder(promoted, rows));
  const r = new WireReader(body);
  const guard = new WireGuard(otlpTypes().ExportMetricsServiceRequest, body);
  const pass = new MetricsPass(r, out, guard, partitioner, receivedNs);
  const heads = headPlans();
  try {
    const groups = readRequestGroupsChecked(r, guard);
    for (let gi = 0; gi < groups.length; gi += 2) {
      const rg = readWireGroupChecked(r, groups[gi]!, groups[gi + 1]!, guard, heads.resource, RESOURCE_DEPTH);
      const resource = resourceContext(groupResource(r, rg), r.text(rg.url0, rg.url1));
      for (let si = 0; si < rg.children.length; si += 2) {
        const sg = readWireGroupChecked(r, rg.children[si]!, rg.children[si + 1]!, guard, heads.scope, SCOPE_DEPTH);
        const scope = scopeContext(groupScope(r, sg), r.text(sg.url0, sg.url1));
        const metrics = sg.children;
        for (let mi = 0; mi < metrics.length; mi += 2) pass.metric(resource, scope, metrics, mi);
      }
    }
  } catch (err) {
    if (isNotClean(err)) return undefined;
    throw err;
  }
  return out.result();
}

/**
 * One request's pass, a Metric at a time. A method of its own, not the body of the request's
 * loop: with every read and append inlined into one function, TurboFan spent ~150 ms per compile
 * of it, three times per daemon run (bench/NOTES.md, h-signals6).
 */
class MetricsPass {
  private readonly metricReader = new WireMetric();
  private readonly point = new WireDataPoint();
  private readonly exemplars = new WireExemplars();
  private readonly check: AttributesCheck;

  constructor(
    private readonly r: WireReader,
    private readonly out: RequestCollector<MetricsBatchBuilder>,
    private readonly guard: WireGuard,
    private readonly partitioner: Partitioner,
    private readonly receivedNs: bigint | undefined,
  ) {
    this.check = { guard, plan: metricPlans().keyValue, depth: POINT_PART_DEPTH };
  }

  /** The Metric at `metrics[mi]`…`metrics[mi + 1]`, the metrics of one scope as [start, end] pairs. */
  metric(resource: ResourceContext, scope: ScopeContext, metrics: readonly number[], mi: number): void {
    const { r, out, guard, partitioner, receivedNs, point, exemplars } = this;
    const metric = this.metricReader;
    metric.read(r, metrics[mi]!, metrics[mi + 1]!, guard);
    const head = metricHead(r, metric);
    const problem = validateMetric(head);
    if (metric.kind === 0) {
      out.reject(problem!); // no data: one rejected point, as convertMetrics counts it
      return;
    }
    // Prepared lazily: a metric whose points are all rejected never needs it.
    let context: MetricContext | undefined;
    const kind = metric.kind;
    const points = metric.points;
    const service = resource.serviceName;
    for (let i = 0; i < points.length; i++) {
      point.read(r, points.starts[i]!, points.ends[i]!, kind, guard);
      // A point's exemplars are read once, here: checked, then appended from what was read.
      let bad = problem;
      if (bad === null && kind !== SUMMARY) {
        exemplars.read(r, point.exemplars);
        bad = exemplars.problem();
      }
      if (bad !== null) {
        point.checkParts(guard); // a refused point's attributes are checked all the same
        out.reject(bad);
        continue;
      }
      context ??= metricContext(head);
      const time = clampToInt64(point.time);
      const at = partitioner.placeTime(time, receivedNs);
      if (typeof at === 'string') {
        point.checkParts(guard);
        out.reject(`timeUnixNano: ${at}`);
        continue;
      }
      const path = partitioner.pathFor(at, service);
      // A new partition's builder starts at this metric's points times the metrics left in
      // the scope (exact when every metric has as many series, as an exporter's usually do).
      out.builder(path, (points.length * (metrics.length - mi)) / 2 - i).appendWire(resource, scope, context, kind, point, r, time, exemplars, this.check);
      out.accept();
    }
  }
}
