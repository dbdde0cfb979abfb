/**
 * Proves the OTLP definitions under proto/ against the official OpenTelemetry JS encoder.
 *
 * @opentelemetry/otlp-transformer serialises with its own hand-written protobuf writer (it does
 * not use protobufjs or any .proto file), so decoding its bytes with protobufjs + our proto/
 * checks our field numbers and wire types independently; its JSON serialiser checks our field
 * names (OTLP/JSON uses the lowerCamelCase proto field names).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import type { Long, Message, Root, Type } from 'protobufjs';

import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  ValueType,
  context as apiContext,
  createTraceState,
  trace,
  type Attributes,
  type HrTime,
  type SpanContext,
} from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';

import { PROTO_DIR, loadOtlpRoot, otlpTypes } from '../../src/otlp/proto-root.js';

// ---------------------------------------------------------------------------------------------
// Loading proto/ exactly as the brief describes (independent of src/otlp/proto-root.ts).
// ---------------------------------------------------------------------------------------------

const protoDir = fileURLToPath(new URL('../../proto', import.meta.url));

function loadRootFromProtoDir(): Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(protoDir, target));
  root.loadSync([
    'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    'opentelemetry/proto/collector/logs/v1/logs_service.proto',
    'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    'google/rpc/status.proto',
    'google/rpc/error_details.proto',
  ]);
  root.resolveAll();
  return root;
}

const root = loadRootFromProtoDir();
const TraceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const LogsRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const MetricsRequest = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');

// ---------------------------------------------------------------------------------------------
// Decoded shapes (protobufjs defaults: camelCase names, Long for 64-bit, Buffer for bytes).
// ---------------------------------------------------------------------------------------------

interface PbAnyValue {
  value?: string;
  stringValue: string;
  boolValue: boolean;
  intValue: Long;
  doubleValue: number;
  arrayValue: { values: PbAnyValue[] } | null;
  kvlistValue: { values: PbKeyValue[] } | null;
  bytesValue: Uint8Array;
}
interface PbKeyValue {
  key: string;
  value: PbAnyValue | null;
}
interface PbResource {
  attributes: PbKeyValue[];
  droppedAttributesCount: number;
  entityRefs: unknown[];
}
interface PbScope {
  name: string;
  version: string;
  attributes: PbKeyValue[];
}
interface PbSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  parentSpanId: Uint8Array;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: Long;
  endTimeUnixNano: Long;
  attributes: PbKeyValue[];
  droppedAttributesCount: number;
  events: { timeUnixNano: Long; name: string; attributes: PbKeyValue[]; droppedAttributesCount: number }[];
  droppedEventsCount: number;
  links: {
    traceId: Uint8Array;
    spanId: Uint8Array;
    traceState: string;
    attributes: PbKeyValue[];
    droppedAttributesCount: number;
    flags: number;
  }[];
  droppedLinksCount: number;
  status: { message: string; code: number } | null;
}
interface PbTraceRequest {
  resourceSpans: {
    resource: PbResource | null;
    scopeSpans: { scope: PbScope | null; spans: PbSpan[]; schemaUrl: string }[];
    schemaUrl: string;
  }[];
}
interface PbLogRecord {
  timeUnixNano: Long;
  observedTimeUnixNano: Long;
  severityNumber: number;
  severityText: string;
  body: PbAnyValue | null;
  attributes: PbKeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}
interface PbLogsRequest {
  resourceLogs: {
    resource: PbResource | null;
    scopeLogs: { scope: PbScope | null; logRecords: PbLogRecord[]; schemaUrl: string }[];
    schemaUrl: string;
  }[];
}
interface PbNumberDataPoint {
  value?: string;
  attributes: PbKeyValue[];
  startTimeUnixNano: Long;
  timeUnixNano: Long;
  asDouble: number;
  asInt: Long;
}
interface PbHistogramDataPoint {
  attributes: PbKeyValue[];
  startTimeUnixNano: Long;
  timeUnixNano: Long;
  count: Long;
  sum: number;
  bucketCounts: Long[];
  explicitBounds: number[];
  min: number;
  max: number;
}
interface PbBuckets {
  offset: number;
  bucketCounts: Long[];
}
interface PbExpHistogramDataPoint {
  attributes: PbKeyValue[];
  startTimeUnixNano: Long;
  timeUnixNano: Long;
  count: Long;
  sum: number;
  scale: number;
  zeroCount: Long;
  positive: PbBuckets | null;
  negative: PbBuckets | null;
  min: number;
  max: number;
}
interface PbMetric {
  name: string;
  description: string;
  unit: string;
  data?: string;
  gauge: { dataPoints: PbNumberDataPoint[] } | null;
  sum: { dataPoints: PbNumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean } | null;
  histogram: { dataPoints: PbHistogramDataPoint[]; aggregationTemporality: number } | null;
  exponentialHistogram: { dataPoints: PbExpHistogramDataPoint[]; aggregationTemporality: number } | null;
}
interface PbMetricsRequest {
  resourceMetrics: {
    resource: PbResource | null;
    scopeMetrics: { scope: PbScope | null; metrics: PbMetric[]; schemaUrl: string }[];
    schemaUrl: string;
  }[];
}

function decode<T>(type: Type, bytes: Uint8Array): T {
  return type.decode(bytes) as unknown as T;
}

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

const LongCtor = protobuf.util.Long;

/** Exact value of a decoded 64-bit field. Fails the test if it is not a Long object. */
function big(v: Long): bigint {
  expect(v).toBeInstanceOf(LongCtor);
  const u = BigInt(v.high >>> 0) * 4294967296n + BigInt(v.low >>> 0);
  return v.unsigned ? u : BigInt.asIntN(64, u);
}

/** A decoded fixed64 timestamp, as a decimal string, also checking it decoded as unsigned Long. */
function nanosString(v: Long): string {
  expect(v.unsigned).toBe(true);
  const s = big(v).toString();
  // The long package's own rendering must agree with the bigint computed from low/high.
  expect(String(v)).toBe(s);
  return s;
}

function hrTimeToNanosString(t: HrTime): string {
  return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Normal form for comparing SDK attribute values with decoded AnyValues. */
type Norm = string | boolean | bigint | number | null | { bytes: string } | Norm[] | { kv: Record<string, Norm> };

function normSdk(v: unknown): Norm {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (v instanceof Uint8Array) return { bytes: hex(v) };
  if (Array.isArray(v)) return v.map(normSdk);
  if (v !== null && typeof v === 'object') {
    const kv: Record<string, Norm> = {};
    for (const [k, x] of Object.entries(v)) kv[k] = normSdk(x);
    return { kv };
  }
  return null;
}

function normPb(v: PbAnyValue | null): Norm {
  if (v === null) return null;
  switch (v.value) {
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    case 'intValue':
      expect(v.intValue.unsigned).toBe(false); // int64, not uint64
      return big(v.intValue);
    case 'doubleValue':
      return v.doubleValue;
    case 'bytesValue':
      return { bytes: hex(v.bytesValue) };
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map(normPb);
    case 'kvlistValue':
      return { kv: attrsPb(v.kvlistValue?.values ?? []) };
    default:
      return null;
  }
}

function attrsSdk(a: Attributes | Record<string, unknown> | undefined): Record<string, Norm> {
  const out: Record<string, Norm> = {};
  for (const [k, v] of Object.entries(a ?? {})) out[k] = normSdk(v);
  return out;
}

function attrsPb(kvs: PbKeyValue[]): Record<string, Norm> {
  const out: Record<string, Norm> = {};
  for (const kv of kvs) out[kv.key] = normPb(kv.value);
  return out;
}

/**
 * Walks raw protobuf bytes against our schema: every field number the encoder wrote must exist
 * in the message type, with a matching wire type (protobufjs itself silently skips unknown
 * fields). Returns the problems found and records every field seen as `Type.fullName#field`.
 */
function walkWire(type: Type, bytes: Uint8Array, seen: Set<string>, problems: string[]): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    const field = type.fieldsById[id];
    if (field === undefined) {
      problems.push(`${type.fullName}: unknown field number ${id} (wire type ${wire})`);
      reader.skipType(wire);
      continue;
    }
    field.resolve();
    seen.add(`${type.fullName.replace(/^\./, '')}#${field.name}`);
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      if (wire !== 2) problems.push(`${type.fullName}.${field.name}: message field with wire type ${wire}`);
      const len = reader.uint32();
      walkWire(resolved, bytes.subarray(reader.pos, reader.pos + len), seen, problems);
      reader.pos += len;
      continue;
    }
    const basic = (protobuf.types.basic as Record<string, number | undefined>)[field.type];
    const expected = resolved instanceof protobuf.Enum ? 0 : basic;
    const packable = field.repeated && (protobuf.types.packed as Record<string, number | undefined>)[field.type] !== undefined;
    const ok = wire === expected || (packable && wire === 2) || (resolved instanceof protobuf.Enum && field.repeated && wire === 2);
    if (!ok) problems.push(`${type.fullName}.${field.name} (${field.type}): wire type ${wire}, expected ${String(expected)}`);
    reader.skipType(wire);
  }
}

function wireCheck(type: Type, bytes: Uint8Array): { seen: Set<string>; problems: string[] } {
  const seen = new Set<string>();
  const problems: string[] = [];
  walkWire(type, bytes, seen, problems);
  return { seen, problems };
}

/** Every key of an OTLP/JSON document must name a field (camelCase) of the matching type. */
function walkJson(type: Type, value: unknown, where: string, seen: Set<string>, problems: string[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${where}: expected an object for ${type.fullName}`);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const field = type.fields[key];
    if (field === undefined) {
      problems.push(`${where}.${key}: no field "${key}" in ${type.fullName}`);
      continue;
    }
    field.resolve();
    seen.add(`${type.fullName.replace(/^\./, '')}#${field.name}`);
    const resolved = field.resolvedType;
    if (!(resolved instanceof protobuf.Type)) continue;
    if (field.repeated) {
      if (!Array.isArray(child)) {
        problems.push(`${where}.${key}: repeated field is not an array`);
        continue;
      }
      child.forEach((c, i) => walkJson(resolved, c, `${where}.${key}[${i}]`, seen, problems));
    } else {
      walkJson(resolved, child, `${where}.${key}`, seen, problems);
    }
  }
}

function jsonCheck(type: Type, bytes: Uint8Array | undefined): { seen: Set<string>; problems: string[] } {
  expect(bytes).toBeInstanceOf(Uint8Array);
  const doc: unknown = JSON.parse(new TextDecoder().decode(bytes));
  const seen = new Set<string>();
  const problems: string[] = [];
  walkJson(type, doc, '$', seen, problems);
  return { seen, problems };
}

function serialize(bytes: Uint8Array | undefined): Uint8Array {
  expect(bytes).toBeInstanceOf(Uint8Array);
  expect(bytes?.length ?? 0).toBeGreaterThan(0);
  return bytes ?? new Uint8Array();
}

const RESOURCE_ATTRS = { 'service.name': 'proto-test', 'service.instance.id': 'i-1', 'host.cpus': 8 };

// ---------------------------------------------------------------------------------------------
// Schema shape.
// ---------------------------------------------------------------------------------------------

describe('proto/ definitions', () => {
  it('load from proto/ with the bundled google.protobuf.Any and Duration', () => {
    expect(root.files.some((f) => f.endsWith('opentelemetry/proto/trace/v1/trace.proto'))).toBe(true);
    expect(root.files).toContain('google/protobuf/any.proto');
    expect(root.files).toContain('google/protobuf/duration.proto');
    expect(root.lookupType('google.rpc.RetryInfo').fields['retryDelay']?.type).toBe('google.protobuf.Duration');
  });

  it('carry the v1.x additions and reserved ranges of the published protos', () => {
    const span = root.lookupType('opentelemetry.proto.trace.v1.Span');
    expect(span.fields['flags']?.id).toBe(16);
    expect(span.fields['flags']?.type).toBe('fixed32');
    expect(root.lookupType('opentelemetry.proto.trace.v1.Span.Link').fields['flags']?.id).toBe(6);
    expect(root.lookupEnum('opentelemetry.proto.trace.v1.SpanFlags').values).toEqual({
      SPAN_FLAGS_DO_NOT_USE: 0,
      SPAN_FLAGS_TRACE_FLAGS_MASK: 0xff,
      SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK: 0x100,
      SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK: 0x200,
    });
    const log = root.lookupType('opentelemetry.proto.logs.v1.LogRecord');
    expect(log.fields['eventName']?.id).toBe(12);
    expect(log.reserved).toEqual([[4, 4]]);
    expect(root.lookupType('opentelemetry.proto.resource.v1.Resource').fields['entityRefs']?.id).toBe(3);
    expect(Object.keys(root.lookupType('opentelemetry.proto.common.v1.EntityRef').fields)).toEqual([
      'schemaUrl',
      'type',
      'idKeys',
      'descriptionKeys',
    ]);
    expect(root.lookupType('opentelemetry.proto.metrics.v1.Metric').reserved).toEqual([
      [4, 4],
      [6, 6],
      [8, 8],
    ]);
    expect(root.lookupType('opentelemetry.proto.metrics.v1.Metric').fields['metadata']?.id).toBe(12);
    for (const name of ['ResourceSpans', 'ResourceLogs', 'ResourceMetrics']) {
      const pkg = name === 'ResourceSpans' ? 'trace' : name === 'ResourceLogs' ? 'logs' : 'metrics';
      expect(root.lookupType(`opentelemetry.proto.${pkg}.v1.${name}`).reserved).toEqual([[1000, 1000]]);
    }
    expect(root.lookupType('opentelemetry.proto.trace.v1.Status').reserved).toEqual([[1, 1]]);
    for (const dp of ['NumberDataPoint', 'HistogramDataPoint', 'SummaryDataPoint', 'Exemplar']) {
      expect(root.lookupType(`opentelemetry.proto.metrics.v1.${dp}`).reserved).toEqual([[1, 1]]);
    }
    const hist = root.lookupType('opentelemetry.proto.metrics.v1.HistogramDataPoint');
    expect(hist.oneofs['_sum']?.oneof).toEqual(['sum']); // proto3 `optional`
    expect(hist.fields['min']?.options?.['proto3_optional']).toBe(true);
  });

  it('loadOtlpRoot() loads the same definitions from src/, caches them, and decodes 64-bit as Long', () => {
    expect(path.resolve(PROTO_DIR)).toBe(protoDir);
    const r = loadOtlpRoot();
    expect(loadOtlpRoot()).toBe(r);
    const types = otlpTypes();
    expect(otlpTypes()).toBe(types);
    expect(types.ExportTraceServiceRequest.fullName).toBe('.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
    expect(types.ExportTraceServiceResponse.fullName).toBe('.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
    expect(types.ExportLogsServiceRequest.fullName).toBe('.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
    expect(types.ExportLogsServiceResponse.fullName).toBe('.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
    expect(types.ExportMetricsServiceRequest.fullName).toBe('.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
    expect(types.ExportMetricsServiceResponse.fullName).toBe('.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');
    expect(types.Status.fullName).toBe('.google.rpc.Status');
    expect(types.RetryInfo.fullName).toBe('.google.rpc.RetryInfo');
    // Same schema as the root loaded here: identical JSON descriptors.
    expect(types.ExportMetricsServiceRequest.root.toJSON()).toEqual(root.toJSON());

    // fixed64 / sfixed64 decode as Long objects, not numbers (the `long` package is in use).
    const point = r.lookupType('opentelemetry.proto.metrics.v1.NumberDataPoint');
    const bytes = point.encode({ timeUnixNano: '1700000000123456789', asInt: -5 }).finish();
    const decoded = decode<PbNumberDataPoint>(point, bytes);
    expect(decoded.timeUnixNano).toBeInstanceOf(LongCtor);
    expect(typeof decoded.timeUnixNano).toBe('object');
    expect(nanosString(decoded.timeUnixNano)).toBe('1700000000123456789');
    expect(decoded.asInt).toBeInstanceOf(LongCtor);
    expect(big(decoded.asInt)).toBe(-5n);
  });
});

// ---------------------------------------------------------------------------------------------
// Traces.
// ---------------------------------------------------------------------------------------------

async function recordSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(RESOURCE_ATTRS),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('proto-test-tracer', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
  const other = provider.getTracer('other-scope');

  const remoteParent: SpanContext = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState('vendor=value,other=x'),
  };
  const linked: SpanContext = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState('congo=t61rcWkgMzE'),
  };

  const server = tracer.startSpan(
    'GET /orders',
    { kind: SpanKind.SERVER, startTime: [1_700_000_000, 123_456_789] },
    trace.setSpanContext(ROOT_CONTEXT, remoteParent),
  );
  const child = tracer.startSpan(
    'SELECT orders',
    {
      kind: SpanKind.CLIENT,
      startTime: [1_700_000_000, 200_000_001],
      attributes: {
        'str': 'hello',
        'str.empty': '',
        'bool': true,
        'int': 42,
        'int.negative': -7,
        'int.big': 2 ** 53,
        'double': 3.25,
        'double.negative': -0.5,
        'str.array': ['a', 'b', ''],
        'int.array': [1, -2, 3],
        'double.array': [1.5, 2.5],
        'bool.array': [true, false],
      },
      links: [{ context: linked, attributes: { 'link.kind': 'follows', 'link.n': 2 } }],
    },
    trace.setSpan(apiContext.active(), server),
  );
  child.addEvent('cache.miss', { key: 'orders:42', 'retry.count': 1 }, [1_700_000_000, 300_000_000]);
  child.addEvent('no.attrs', [1_700_000_000, 300_000_001]);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'db timeout' });
  child.end([1_700_000_000, 987_654_321]);
  server.setStatus({ code: SpanStatusCode.OK });
  server.end([1_700_000_001, 5]);

  const lone = other.startSpan('background job', { startTime: [1_700_000_002, 0] }, ROOT_CONTEXT);
  lone.end([1_700_000_002, 1]);

  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

describe('traces: official OTLP encoder → our proto/', () => {
  let spans: ReadableSpan[] = [];
  let bytes: Uint8Array = new Uint8Array();
  let byName = new Map<string, ReadableSpan>();
  // Decoding happens inside the tests, so a schema mismatch fails them with the decode error.
  let decoded: PbTraceRequest | undefined;
  const req = (): PbTraceRequest => (decoded ??= decode<PbTraceRequest>(TraceRequest, bytes));
  const pbSpans = (): PbSpan[] => req().resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

  beforeAll(async () => {
    spans = await recordSpans();
    bytes = serialize(ProtobufTraceSerializer.serializeRequest(spans));
    byName = new Map(spans.map((s) => [s.name, s]));
  });

  it('every field number and wire type the encoder writes exists in trace.proto', () => {
    const { seen, problems } = wireCheck(TraceRequest, bytes);
    expect(problems).toEqual([]);
    for (const f of [
      'opentelemetry.proto.trace.v1.Span#traceState',
      'opentelemetry.proto.trace.v1.Span#parentSpanId',
      'opentelemetry.proto.trace.v1.Span#flags',
      'opentelemetry.proto.trace.v1.Span#kind',
      'opentelemetry.proto.trace.v1.Span#events',
      'opentelemetry.proto.trace.v1.Span#links',
      'opentelemetry.proto.trace.v1.Span#droppedLinksCount',
      'opentelemetry.proto.trace.v1.Span.Link#flags',
      'opentelemetry.proto.trace.v1.Span.Link#traceState',
      'opentelemetry.proto.trace.v1.Span.Event#timeUnixNano',
      'opentelemetry.proto.trace.v1.Status#code',
      'opentelemetry.proto.trace.v1.Status#message',
      'opentelemetry.proto.trace.v1.ScopeSpans#schemaUrl',
      'opentelemetry.proto.common.v1.InstrumentationScope#version',
      'opentelemetry.proto.common.v1.AnyValue#stringValue',
      'opentelemetry.proto.common.v1.AnyValue#boolValue',
      'opentelemetry.proto.common.v1.AnyValue#intValue',
      'opentelemetry.proto.common.v1.AnyValue#doubleValue',
      'opentelemetry.proto.common.v1.AnyValue#arrayValue',
    ]) {
      expect(seen, f).toContain(f);
    }
  });

  it('decodes resource, scopes and schema URLs', () => {
    expect(req().resourceSpans).toHaveLength(1);
    const rs = req().resourceSpans[0]!;
    expect(attrsPb(rs.resource?.attributes ?? [])).toEqual(attrsSdk(spans[0]!.resource.attributes));
    expect(attrsPb(rs.resource?.attributes ?? [])['service.name']).toBe('proto-test');
    const scopes = rs.scopeSpans.map((ss) => [ss.scope?.name, ss.scope?.version, ss.schemaUrl, ss.spans.length]);
    expect(scopes).toEqual(
      expect.arrayContaining([
        ['proto-test-tracer', '1.2.3', 'https://opentelemetry.io/schemas/1.26.0', 2],
        ['other-scope', '', '', 1],
      ]),
    );
    expect(pbSpans()).toHaveLength(3);
  });

  it('decodes ids, names, kinds, parentage, trace state and flags as the SDK recorded them', () => {
    for (const pb of pbSpans()) {
      const sdk = byName.get(pb.name);
      expect(sdk, pb.name).toBeDefined();
      if (!sdk) continue;
      const ctx = sdk.spanContext();
      expect(pb.traceId).toHaveLength(16);
      expect(pb.spanId).toHaveLength(8);
      expect(hex(pb.traceId)).toBe(ctx.traceId);
      expect(hex(pb.spanId)).toBe(ctx.spanId);
      expect(hex(pb.parentSpanId)).toBe(sdk.parentSpanContext?.spanId ?? '');
      expect(pb.traceState).toBe(ctx.traceState?.serialize() ?? '');
      expect(pb.kind).toBe(sdk.kind + 1); // API enum has no UNSPECIFIED
      const remote = sdk.parentSpanContext?.isRemote === true;
      expect(pb.flags).toBe((ctx.traceFlags & 0xff) | 0x100 | (remote ? 0x200 : 0));
    }
    const server = pbSpans().find((s) => s.name === 'GET /orders')!;
    const child = pbSpans().find((s) => s.name === 'SELECT orders')!;
    const lone = pbSpans().find((s) => s.name === 'background job')!;
    expect(hex(server.traceId)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(hex(server.parentSpanId)).toBe('b7ad6b7169203331');
    expect(server.traceState).toBe('vendor=value,other=x');
    expect(server.flags).toBe(0x301);
    expect(server.kind).toBe(2); // SPAN_KIND_SERVER
    expect(hex(child.parentSpanId)).toBe(hex(server.spanId));
    expect(child.flags).toBe(0x101);
    expect(child.kind).toBe(3); // SPAN_KIND_CLIENT
    expect(lone.parentSpanId).toHaveLength(0);
    expect(lone.kind).toBe(1); // SPAN_KIND_INTERNAL
  });

  it('decodes fixed64 times as unsigned Longs equal to the SDK HrTimes', () => {
    for (const pb of pbSpans()) {
      const sdk = byName.get(pb.name)!;
      expect(nanosString(pb.startTimeUnixNano)).toBe(hrTimeToNanosString(sdk.startTime));
      expect(nanosString(pb.endTimeUnixNano)).toBe(hrTimeToNanosString(sdk.endTime));
      expect(pb.events.map((e) => nanosString(e.timeUnixNano))).toEqual(sdk.events.map((e) => hrTimeToNanosString(e.time)));
    }
    const child = pbSpans().find((s) => s.name === 'SELECT orders')!;
    expect(nanosString(child.startTimeUnixNano)).toBe('1700000000200000001');
    expect(nanosString(child.endTimeUnixNano)).toBe('1700000000987654321');
    expect(nanosString(child.events[0]!.timeUnixNano)).toBe('1700000000300000000');
  });

  it('decodes attributes of every type, events, links and status', () => {
    const sdk = byName.get('SELECT orders')!;
    const pb = pbSpans().find((s) => s.name === 'SELECT orders')!;
    const attrs = attrsPb(pb.attributes);
    expect(attrs).toEqual(attrsSdk(sdk.attributes));
    expect(Object.keys(attrs)).toHaveLength(12);
    expect(attrs['int.negative']).toBe(-7n);
    expect(attrs['int.big']).toBe(9007199254740992n);
    expect(attrs['double']).toBe(3.25);
    expect(attrs['int.array']).toEqual([1n, -2n, 3n]);
    expect(attrs['str.empty']).toBe('');

    expect(pb.events.map((e) => [e.name, attrsPb(e.attributes), e.droppedAttributesCount])).toEqual(
      sdk.events.map((e) => [e.name, attrsSdk(e.attributes), e.droppedAttributesCount ?? 0]),
    );
    expect(pb.events.map((e) => e.name)).toEqual(['cache.miss', 'no.attrs']);

    expect(pb.links).toHaveLength(1);
    const link = pb.links[0]!;
    expect(hex(link.traceId)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(hex(link.spanId)).toBe('00f067aa0ba902b7');
    expect(link.traceState).toBe('congo=t61rcWkgMzE');
    expect(link.flags).toBe(0x301);
    expect(attrsPb(link.attributes)).toEqual(attrsSdk(sdk.links[0]!.attributes));

    expect(pb.status).toEqual(expect.objectContaining({ code: 2, message: 'db timeout' }));
    expect(pbSpans().find((s) => s.name === 'GET /orders')!.status?.code).toBe(1);
    expect(pb.droppedAttributesCount).toBe(sdk.droppedAttributesCount);
    expect(pb.droppedEventsCount).toBe(sdk.droppedEventsCount);
    expect(pb.droppedLinksCount).toBe(sdk.droppedLinksCount);
  });

  it('every key of the official OTLP/JSON encoding names a field of trace.proto', () => {
    const { seen, problems } = jsonCheck(TraceRequest, JsonTraceSerializer.serializeRequest(spans));
    expect(problems).toEqual([]);
    expect(seen).toContain('opentelemetry.proto.trace.v1.Span#flags');
    expect(seen).toContain('opentelemetry.proto.trace.v1.Span#startTimeUnixNano');
    expect(seen).toContain('opentelemetry.proto.trace.v1.Span.Link#droppedAttributesCount');
    expect(seen).toContain('opentelemetry.proto.common.v1.ArrayValue#values');
  });

  it('encodes ExportTraceServiceResponse so the official decoder reads partial success', () => {
    const Response = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
    const out = Response.encode({ partialSuccess: { rejectedSpans: 3, errorMessage: 'dropped 3 spans' } }).finish();
    expect(ProtobufTraceSerializer.deserializeResponse(out)).toEqual({
      partialSuccess: { rejectedSpans: 3, errorMessage: 'dropped 3 spans' },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Logs.
// ---------------------------------------------------------------------------------------------

async function recordLogs(): Promise<ReadableLogRecord[]> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(RESOURCE_ATTRS),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('proto-test-logger', '0.1.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
  const spanCtx: SpanContext = {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    traceFlags: TraceFlags.SAMPLED,
  };
  logger.emit({
    timestamp: [1_700_000_010, 1],
    observedTimestamp: [1_700_000_010, 999_999_999],
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'disk almost full',
    eventName: 'storage.disk.pressure',
    attributes: {
      'disk.free.bytes': 1024,
      'disk.ratio': 0.97,
      'disk.mounts': ['/', '/data'],
      nested: { path: '/data', readonly: false, depth: -1 },
      raw: new Uint8Array([0, 1, 254, 255]),
    },
    context: trace.setSpanContext(ROOT_CONTEXT, spanCtx),
  });
  logger.emit({
    timestamp: [1_700_000_011, 0],
    severityNumber: SeverityNumber.ERROR2,
    body: { message: 'structured', code: 500, tags: ['a', 'b'], blob: new Uint8Array([9, 8]) },
    context: ROOT_CONTEXT,
  });
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  await provider.shutdown();
  return records;
}

describe('logs: official OTLP encoder → our proto/', () => {
  let records: ReadableLogRecord[] = [];
  let bytes: Uint8Array = new Uint8Array();
  let decodedReq: PbLogsRequest | undefined;
  const req = (): PbLogsRequest => (decodedReq ??= decode<PbLogsRequest>(LogsRequest, bytes));
  const pbRecords = (): PbLogRecord[] => req().resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));

  beforeAll(async () => {
    records = await recordLogs();
    bytes = serialize(ProtobufLogsSerializer.serializeRequest(records));
  });

  it('every field number and wire type the encoder writes exists in logs.proto', () => {
    const { seen, problems } = wireCheck(LogsRequest, bytes);
    expect(problems).toEqual([]);
    for (const f of [
      'opentelemetry.proto.logs.v1.LogRecord#timeUnixNano',
      'opentelemetry.proto.logs.v1.LogRecord#observedTimeUnixNano',
      'opentelemetry.proto.logs.v1.LogRecord#severityNumber',
      'opentelemetry.proto.logs.v1.LogRecord#severityText',
      'opentelemetry.proto.logs.v1.LogRecord#body',
      'opentelemetry.proto.logs.v1.LogRecord#flags',
      'opentelemetry.proto.logs.v1.LogRecord#traceId',
      'opentelemetry.proto.logs.v1.LogRecord#spanId',
      'opentelemetry.proto.logs.v1.LogRecord#eventName',
      'opentelemetry.proto.logs.v1.ScopeLogs#schemaUrl',
      'opentelemetry.proto.common.v1.AnyValue#kvlistValue',
      'opentelemetry.proto.common.v1.AnyValue#bytesValue',
      'opentelemetry.proto.common.v1.KeyValueList#values',
    ]) {
      expect(seen, f).toContain(f);
    }
  });

  it('decodes scope, times, severity, body, attributes, event name and trace correlation', () => {
    expect(req().resourceLogs).toHaveLength(1);
    const rl = req().resourceLogs[0]!;
    expect(attrsPb(rl.resource?.attributes ?? [])).toEqual(attrsSdk(records[0]!.resource.attributes));
    expect(rl.scopeLogs).toHaveLength(1);
    expect(rl.scopeLogs[0]!.scope?.name).toBe('proto-test-logger');
    expect(rl.scopeLogs[0]!.scope?.version).toBe('0.1.0');
    expect(rl.scopeLogs[0]!.schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
    const decoded = pbRecords();
    expect(decoded).toHaveLength(records.length);
    expect(decoded).toHaveLength(2);

    decoded.forEach((pb, i) => {
      const sdk = records[i]!;
      expect(nanosString(pb.timeUnixNano)).toBe(hrTimeToNanosString(sdk.hrTime));
      expect(nanosString(pb.observedTimeUnixNano)).toBe(hrTimeToNanosString(sdk.hrTimeObserved));
      expect(pb.severityNumber).toBe(sdk.severityNumber);
      expect(pb.severityText).toBe(sdk.severityText ?? '');
      expect(normPb(pb.body)).toEqual(normSdk(sdk.body));
      expect(attrsPb(pb.attributes)).toEqual(attrsSdk(sdk.attributes));
      expect(pb.eventName).toBe(sdk.eventName ?? '');
      expect(hex(pb.traceId)).toBe(sdk.spanContext?.traceId ?? '');
      expect(hex(pb.spanId)).toBe(sdk.spanContext?.spanId ?? '');
      expect(pb.flags).toBe(sdk.spanContext?.traceFlags ?? 0);
    });

    const [warn, err] = decoded as [PbLogRecord, PbLogRecord];
    expect(nanosString(warn.timeUnixNano)).toBe('1700000010000000001');
    expect(nanosString(warn.observedTimeUnixNano)).toBe('1700000010999999999');
    expect(warn.severityNumber).toBe(13); // SEVERITY_NUMBER_WARN
    expect(warn.eventName).toBe('storage.disk.pressure');
    expect(hex(warn.traceId)).toBe('5b8efff798038103d269b633813fc60c');
    expect(hex(warn.spanId)).toBe('eee19b7ec3c1b174');
    expect(warn.flags).toBe(1);
    expect(attrsPb(warn.attributes)['nested']).toEqual({ kv: { path: '/data', readonly: false, depth: -1n } });
    expect(attrsPb(warn.attributes)['raw']).toEqual({ bytes: '0001feff' });
    expect(err.severityNumber).toBe(18); // SEVERITY_NUMBER_ERROR2
    expect(normPb(err.body)).toEqual({ kv: { message: 'structured', code: 500n, tags: ['a', 'b'], blob: { bytes: '0908' } } });
    expect(err.traceId).toHaveLength(0);
    expect(err.eventName).toBe('');
  });

  it('every key of the official OTLP/JSON encoding names a field of logs.proto', () => {
    const { seen, problems } = jsonCheck(LogsRequest, JsonLogsSerializer.serializeRequest(records));
    expect(problems).toEqual([]);
    expect(seen).toContain('opentelemetry.proto.logs.v1.LogRecord#eventName');
    expect(seen).toContain('opentelemetry.proto.logs.v1.LogRecord#observedTimeUnixNano');
  });

  it('encodes ExportLogsServiceResponse so the official decoder reads partial success', () => {
    const Response = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
    const out = Response.encode({ partialSuccess: { rejectedLogRecords: 7, errorMessage: 'too big' } }).finish();
    expect(ProtobufLogsSerializer.deserializeResponse(out)).toEqual({
      partialSuccess: { rejectedLogRecords: 7, errorMessage: 'too big' },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Metrics.
// ---------------------------------------------------------------------------------------------

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function recordMetrics(): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes(RESOURCE_ATTRS),
    readers: [reader],
    views: [{ instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('proto-test-meter', '2.0.0');
  const requests = meter.createCounter('http.requests', { description: 'Requests served', unit: '{request}', valueType: ValueType.INT });
  requests.add(3, { route: '/a' });
  requests.add(4, { route: '/a' });
  requests.add(5, { route: '/b', 'http.status_code': 200 });
  const depth = meter.createUpDownCounter('queue.depth', { valueType: ValueType.INT });
  depth.add(-3);
  const temperature = meter.createGauge('room.temperature', { unit: 'Cel' });
  temperature.record(21.5, { room: 'lab' });
  const latency = meter.createHistogram('http.latency', {
    unit: 'ms',
    description: 'Request latency',
    advice: { explicitBucketBoundaries: [0, 10, 100] },
  });
  for (const v of [5, 50, 500, 7]) latency.record(v, { route: '/a' });
  const size = meter.createHistogram('payload.size', { unit: 'By' });
  for (const v of [0, 0.25, 0.5, 3, 1000]) size.record(v);

  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  await provider.shutdown();
  return resourceMetrics;
}

describe('metrics: official OTLP encoder → our proto/', () => {
  let rm: ResourceMetrics | undefined;
  let bytes: Uint8Array = new Uint8Array();
  let sdkMetrics: ResourceMetrics['scopeMetrics'][number]['metrics'] = [];
  let decodedReq: PbMetricsRequest | undefined;
  const req = (): PbMetricsRequest => (decodedReq ??= decode<PbMetricsRequest>(MetricsRequest, bytes));
  const pbMetrics = (): PbMetric[] => req().resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((sm) => sm.metrics));
  const pbMetric = (name: string): PbMetric => {
    const m = pbMetrics().find((x) => x.name === name);
    expect(m, name).toBeDefined();
    return m!;
  };

  beforeAll(async () => {
    rm = await recordMetrics();
    bytes = serialize(ProtobufMetricsSerializer.serializeRequest(rm));
    sdkMetrics = rm.scopeMetrics.flatMap((sm) => sm.metrics);
  });

  it('every field number and wire type the encoder writes exists in metrics.proto', () => {
    const { seen, problems } = wireCheck(MetricsRequest, bytes);
    expect(problems).toEqual([]);
    for (const f of [
      'opentelemetry.proto.metrics.v1.Metric#sum',
      'opentelemetry.proto.metrics.v1.Metric#gauge',
      'opentelemetry.proto.metrics.v1.Metric#histogram',
      'opentelemetry.proto.metrics.v1.Metric#exponentialHistogram',
      'opentelemetry.proto.metrics.v1.Sum#isMonotonic',
      'opentelemetry.proto.metrics.v1.Sum#aggregationTemporality',
      'opentelemetry.proto.metrics.v1.NumberDataPoint#asInt',
      'opentelemetry.proto.metrics.v1.NumberDataPoint#asDouble',
      'opentelemetry.proto.metrics.v1.HistogramDataPoint#bucketCounts',
      'opentelemetry.proto.metrics.v1.HistogramDataPoint#explicitBounds',
      'opentelemetry.proto.metrics.v1.HistogramDataPoint#min',
      'opentelemetry.proto.metrics.v1.HistogramDataPoint#max',
      'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint#scale',
      'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint#zeroCount',
      'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint#positive',
      'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets#offset',
      'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets#bucketCounts',
    ]) {
      expect(seen, f).toContain(f);
    }
  });

  it('decodes resource, scope and metric descriptors', () => {
    expect(req().resourceMetrics).toHaveLength(1);
    const r = req().resourceMetrics[0]!;
    expect(attrsPb(r.resource?.attributes ?? [])).toEqual(attrsSdk(rm!.resource.attributes));
    expect(r.scopeMetrics[0]!.scope?.name).toBe('proto-test-meter');
    expect(r.scopeMetrics[0]!.scope?.version).toBe('2.0.0');
    expect(pbMetrics().map((m) => m.name).sort()).toEqual(sdkMetrics.map((m) => m.descriptor.name).sort());
    expect(pbMetrics()).toHaveLength(5);
    for (const sdk of sdkMetrics) {
      const pb = pbMetric(sdk.descriptor.name);
      expect(pb.description).toBe(sdk.descriptor.description);
      expect(pb.unit).toBe(sdk.descriptor.unit);
    }
  });

  it('decodes sums and gauges: temporality, monotonicity, times, int/double values and attributes', () => {
    const cumulative = 2; // AGGREGATION_TEMPORALITY_CUMULATIVE
    expect(sdkMetrics.every((m) => m.aggregationTemporality === AggregationTemporality.CUMULATIVE)).toBe(true);
    for (const sdk of sdkMetrics) {
      const pb = pbMetric(sdk.descriptor.name);
      if (sdk.dataPointType !== DataPointType.SUM && sdk.dataPointType !== DataPointType.GAUGE) continue;
      const isInt = sdk.descriptor.valueType === ValueType.INT;
      const points = sdk.dataPointType === DataPointType.SUM ? pb.sum?.dataPoints : pb.gauge?.dataPoints;
      expect(pb.data).toBe(sdk.dataPointType === DataPointType.SUM ? 'sum' : 'gauge');
      if (sdk.dataPointType === DataPointType.SUM) {
        expect(pb.sum?.aggregationTemporality).toBe(cumulative);
        expect(pb.sum?.isMonotonic).toBe(sdk.isMonotonic);
      }
      expect(points).toHaveLength(sdk.dataPoints.length);
      sdk.dataPoints.forEach((dp, i) => {
        const p = points![i]!;
        expect(nanosString(p.startTimeUnixNano)).toBe(hrTimeToNanosString(dp.startTime));
        expect(nanosString(p.timeUnixNano)).toBe(hrTimeToNanosString(dp.endTime));
        expect(attrsPb(p.attributes)).toEqual(attrsSdk(dp.attributes));
        if (isInt) {
          expect(p.value).toBe('asInt');
          expect(p.asInt.unsigned).toBe(false); // sfixed64
          expect(big(p.asInt)).toBe(BigInt(dp.value));
        } else {
          expect(p.value).toBe('asDouble');
          expect(p.asDouble).toBe(dp.value);
        }
      });
    }
    const requests = pbMetric('http.requests');
    expect(requests.sum?.isMonotonic).toBe(true);
    const values = requests.sum!.dataPoints.map((p) => [attrsPb(p.attributes)['route'], big(p.asInt)]);
    expect(values).toEqual(expect.arrayContaining([['/a', 7n], ['/b', 5n]]));
    const depth = pbMetric('queue.depth');
    expect(depth.sum?.isMonotonic).toBe(false);
    expect(big(depth.sum!.dataPoints[0]!.asInt)).toBe(-3n);
    expect(pbMetric('room.temperature').gauge!.dataPoints[0]!.asDouble).toBe(21.5);
  });

  it('decodes explicit-bucket histograms', () => {
    const sdk = sdkMetrics.find((m) => m.descriptor.name === 'http.latency');
    expect(sdk?.dataPointType).toBe(DataPointType.HISTOGRAM);
    if (sdk?.dataPointType !== DataPointType.HISTOGRAM) return;
    const pb = pbMetric('http.latency');
    expect(pb.data).toBe('histogram');
    expect(pb.histogram?.aggregationTemporality).toBe(2);
    const dp = sdk.dataPoints[0]!;
    const p = pb.histogram!.dataPoints[0]!;
    expect(nanosString(p.startTimeUnixNano)).toBe(hrTimeToNanosString(dp.startTime));
    expect(nanosString(p.timeUnixNano)).toBe(hrTimeToNanosString(dp.endTime));
    expect(attrsPb(p.attributes)).toEqual({ route: '/a' });
    expect(p.count.unsigned).toBe(true); // fixed64
    expect(big(p.count)).toBe(BigInt(dp.value.count));
    expect(big(p.count)).toBe(4n);
    expect(p.sum).toBe(dp.value.sum);
    expect(p.sum).toBe(562);
    expect(p.explicitBounds).toEqual(dp.value.buckets.boundaries);
    expect(p.bucketCounts.map(big)).toEqual(dp.value.buckets.counts.map((c) => BigInt(c)));
    expect(p.bucketCounts.map(big)).toEqual([0n, 2n, 1n, 1n]);
    expect([p.min, p.max]).toEqual([dp.value.min, dp.value.max]);
    expect([p.min, p.max]).toEqual([5, 500]);
  });

  it('decodes exponential histograms (sint32 scale/offset, packed uint64 counts)', () => {
    const sdk = sdkMetrics.find((m) => m.descriptor.name === 'payload.size');
    expect(sdk?.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
    if (sdk?.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM) return;
    const pb = pbMetric('payload.size');
    expect(pb.data).toBe('exponentialHistogram');
    const dp = sdk.dataPoints[0]!;
    const p = pb.exponentialHistogram!.dataPoints[0]!;
    expect(big(p.count)).toBe(BigInt(dp.value.count));
    expect(big(p.count)).toBe(5n);
    expect(p.sum).toBe(dp.value.sum);
    expect(p.scale).toBe(dp.value.scale);
    expect(big(p.zeroCount)).toBe(BigInt(dp.value.zeroCount));
    expect(big(p.zeroCount)).toBe(1n);
    expect(p.positive?.offset).toBe(dp.value.positive.offset);
    expect(p.positive?.offset).toBeLessThan(0); // 0.25 lies below 1: zigzag-decoded negative offset
    expect(p.positive?.bucketCounts.map(big)).toEqual(dp.value.positive.bucketCounts.map((c) => BigInt(c)));
    expect(p.positive!.bucketCounts.every((c) => c.unsigned)).toBe(true);
    expect([p.min, p.max]).toEqual([dp.value.min, dp.value.max]);
  });

  it('every key of the official OTLP/JSON encoding names a field of metrics.proto', () => {
    const { seen, problems } = jsonCheck(MetricsRequest, JsonMetricsSerializer.serializeRequest(rm!));
    expect(problems).toEqual([]);
    expect(seen).toContain('opentelemetry.proto.metrics.v1.HistogramDataPoint#explicitBounds');
    expect(seen).toContain('opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint#zeroCount');
    expect(seen).toContain('opentelemetry.proto.metrics.v1.Sum#isMonotonic');
  });

  it('encodes ExportMetricsServiceResponse so the official decoder reads partial success', () => {
    const Response = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');
    const out = Response.encode({ partialSuccess: { rejectedDataPoints: 11, errorMessage: 'stale' } }).finish();
    expect(ProtobufMetricsSerializer.deserializeResponse(out)).toEqual({
      partialSuccess: { rejectedDataPoints: 11, errorMessage: 'stale' },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// google.rpc.Status / RetryInfo (no official JS encoder at hand: checked against hand-made bytes).
// ---------------------------------------------------------------------------------------------

describe('google.rpc.Status and RetryInfo', () => {
  const Status = root.lookupType('google.rpc.Status');
  const RetryInfo = root.lookupType('google.rpc.RetryInfo');

  it('encode with the published field numbers (code=1, message=2, details=3; retry_delay=1)', () => {
    const retry = RetryInfo.encode({ retryDelay: { seconds: 5, nanos: 500 } }).finish();
    // RetryInfo{1: Duration{1: 5, 2: 500}}
    expect(Buffer.from(retry).toString('hex')).toBe('0a0508' + '05' + '10f403');
    const status = Status.encode({
      code: 14,
      message: 'unavailable',
      details: [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retry }],
    }).finish();
    const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
    const any = Buffer.concat([Buffer.from([0x0a, typeUrl.length]), typeUrl, Buffer.from([0x12, retry.length]), retry]);
    const expected = Buffer.concat([
      Buffer.from([0x08, 14]),
      Buffer.from([0x12, 11]),
      Buffer.from('unavailable'),
      Buffer.from([0x1a, any.length]),
      any,
    ]);
    expect(Buffer.from(status).toString('hex')).toBe(expected.toString('hex'));

    const back = Status.decode(expected) as Message & {
      code: number;
      message: string;
      details: { type_url: string; value: Uint8Array }[];
    };
    expect(back.code).toBe(14);
    expect(back.message).toBe('unavailable');
    expect(back.details[0]?.type_url).toBe('type.googleapis.com/google.rpc.RetryInfo');
    const delay = (RetryInfo.decode(back.details[0]!.value) as Message & { retryDelay: { seconds: Long; nanos: number } })
      .retryDelay;
    expect(big(delay.seconds)).toBe(5n);
    expect(delay.nanos).toBe(500);
  });
});
