/**
 * The shapes protobufjs produces for OTLP v1 messages, after `decode` (protobuf) or
 * `fromObject` (OTLP/JSON): camelCase fields, `Long` for 64-bit integers, `Uint8Array` for
 * bytes, enums as numbers. Absent fields read as their proto3 default through the prototype,
 * so every field is typed as present; oneofs expose the set member's name (e.g. `value`).
 */

/** A 64-bit integer as protobufjs decodes it (`long` package), or a plain number. */
export type Int64Value = { low: number; high: number; unsigned: boolean } | number;

export interface AnyValue {
  /** Name of the member that is set (protobufjs virtual oneof), undefined when empty. */
  value?: 'stringValue' | 'boolValue' | 'intValue' | 'doubleValue' | 'arrayValue' | 'kvlistValue' | 'bytesValue';
  stringValue: string;
  boolValue: boolean;
  intValue: Int64Value;
  doubleValue: number;
  arrayValue: { values: AnyValue[] } | null;
  kvlistValue: { values: KeyValue[] } | null;
  bytesValue: Uint8Array;
}

export interface KeyValue {
  key: string;
  value: AnyValue | null;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface SpanEvent {
  timeUnixNano: Int64Value;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface SpanLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
}

export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  parentSpanId: Uint8Array;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: Int64Value;
  endTimeUnixNano: Int64Value;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  status: { message: string; code: number } | null;
}

export interface ScopeSpans {
  scope: InstrumentationScope | null;
  spans: Span[];
  schemaUrl: string;
}

export interface ResourceSpans {
  resource: Resource | null;
  scopeSpans: ScopeSpans[];
  schemaUrl: string;
}

export interface ExportTraceServiceRequest {
  resourceSpans: ResourceSpans[];
}

export interface LogRecord {
  timeUnixNano: Int64Value;
  observedTimeUnixNano: Int64Value;
  severityNumber: number;
  severityText: string;
  body: AnyValue | null;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}

export interface ScopeLogs {
  scope: InstrumentationScope | null;
  logRecords: LogRecord[];
  schemaUrl: string;
}

export interface ResourceLogs {
  resource: Resource | null;
  scopeLogs: ScopeLogs[];
  schemaUrl: string;
}

export interface ExportLogsServiceRequest {
  resourceLogs: ResourceLogs[];
}
