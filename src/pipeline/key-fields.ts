/**
 * The fields `[[partitioning.keys]]` can read, per dataset, with the values their Parquet columns
 * hold (hex trace ids, enum names, nanosecond durations), so an engine recomputing a bucket or a
 * range from the column gets the level the daemon wrote. Built only when a dataset has keys.
 */
import type { RecordLike } from '../partitioning/strategies.js';
import type { LogRecord, Span } from '../otlp/types.js';
import { unixNanoToBigInt } from '../otlp/values.js';
import type { ResourceContext } from '../schema/common.js';
import { enumName, SPAN_KINDS, STATUS_CODES } from '../schema/traces.js';

const hex = (id: Uint8Array | null | undefined): string | null => (id && id.length > 0 && id.some((b) => b !== 0) ? Buffer.from(id).toString('hex') : null);

export function spanKeyFields(resource: ResourceContext, span: Span, startNs: bigint): RecordLike {
  return {
    service_name: resource.serviceName,
    trace_id: hex(span.traceId),
    name: span.name,
    kind: enumName(SPAN_KINDS, span.kind),
    status_code: enumName(STATUS_CODES, span.status?.code ?? 0),
    duration_ns: unixNanoToBigInt(span.endTimeUnixNano) - startNs,
  };
}

export function logKeyFields(resource: ResourceContext, rec: LogRecord): RecordLike {
  return {
    service_name: resource.serviceName,
    trace_id: hex(rec.traceId),
    severity_number: rec.severityNumber,
    severity_text: rec.severityText === '' ? null : rec.severityText,
  };
}

export function metricKeyFields(resource: ResourceContext, metricName: string, metricType: string): RecordLike {
  return { service_name: resource.serviceName, metric_name: metricName, metric_type: metricType };
}
