/**
 * Loads the OTLP v1 wire definitions shipped under `proto/` (copies of
 * open-telemetry/opentelemetry-proto v1.x plus google.rpc.Status / RetryInfo) into one
 * protobufjs Root.
 *
 * Conventions of the returned types (protobufjs defaults):
 * - field names are camelCase (`resourceSpans`, `startTimeUnixNano`), which is also the
 *   OTLP/JSON spelling; the bundled google.protobuf.Any keeps its own `type_url`/`value`;
 * - 64-bit integers (fixed64, sfixed64, int64, uint64) decode as `Long` objects, because
 *   protobufjs picks up the `long` package it depends on (checked once when the root loads);
 * - bytes decode as Uint8Array (Buffer under Node), enums as numbers, and a oneof exposes the
 *   name of its set member through a virtual property (e.g. `AnyValue.value`).
 *
 * The proto directory is found relative to this module: src/otlp/ and dist/otlp/ both sit two
 * levels below the package root, so `../../proto/` works for the sources and the build.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import protobuf from 'protobufjs';
import type { Root, Type } from 'protobufjs';

/** Absolute path of the directory holding `opentelemetry/` and `google/`. */
export const PROTO_DIR: string = fileURLToPath(new URL('../../proto/', import.meta.url));

/** Entry files, relative to {@link PROTO_DIR}; their imports are resolved from there too. */
export const OTLP_PROTO_FILES: readonly string[] = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

let cachedRoot: Root | undefined;

/**
 * Returns the (cached) Root holding the three OTLP collector services, everything they import,
 * google.rpc.Status and google.rpc error details (RetryInfo, ...).
 */
export function loadOtlpRoot(): Root {
  if (cachedRoot !== undefined) return cachedRoot;

  if (!protobuf.util.Long) {
    // Without `long`, protobufjs would decode 64-bit fields as lossy JS numbers.
    throw new Error('protobufjs has no Long implementation; 64-bit OTLP fields would lose precision');
  }

  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string =>
    path.isAbsolute(target) ? target : path.join(PROTO_DIR, target);
  // google/protobuf/{any,duration}.proto are not shipped: protobufjs serves its bundled copies
  // for any path ending in google/protobuf/<name>.proto.
  root.loadSync([...OTLP_PROTO_FILES]);
  root.resolveAll();

  cachedRoot = root;
  return root;
}

/** The message types an OTLP receiver needs, looked up once from {@link loadOtlpRoot}. */
export interface OtlpTypes {
  readonly ExportTraceServiceRequest: Type;
  readonly ExportTraceServiceResponse: Type;
  readonly ExportLogsServiceRequest: Type;
  readonly ExportLogsServiceResponse: Type;
  readonly ExportMetricsServiceRequest: Type;
  readonly ExportMetricsServiceResponse: Type;
  /** google.rpc.Status, the body of OTLP/HTTP error responses and gRPC status details. */
  readonly Status: Type;
  /** google.rpc.RetryInfo, carried in Status.details to suggest a retry delay. */
  readonly RetryInfo: Type;
}

let cachedTypes: OtlpTypes | undefined;

/** Returns the (cached) OTLP request/response types plus google.rpc.Status and RetryInfo. */
export function otlpTypes(): OtlpTypes {
  if (cachedTypes !== undefined) return cachedTypes;
  const root = loadOtlpRoot();
  const t = (name: string): Type => root.lookupType(name);
  cachedTypes = Object.freeze({
    ExportTraceServiceRequest: t('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    ExportTraceServiceResponse: t('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    ExportLogsServiceRequest: t('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    ExportLogsServiceResponse: t('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
    ExportMetricsServiceRequest: t('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
    ExportMetricsServiceResponse: t('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
    Status: t('google.rpc.Status'),
    RetryInfo: t('google.rpc.RetryInfo'),
  });
  return cachedTypes;
}
