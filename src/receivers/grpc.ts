/**
 * OTLP/gRPC receiver: `opentelemetry.proto.collector.{trace,logs,metrics}.v1.*Service/Export`.
 *
 * Messages are registered with pass-through (de)serializers, so grpc-js hands us raw bytes and
 * a decode failure becomes INVALID_ARGUMENT with our message rather than a transport error.
 * grpc-js itself enforces `max_receive_message_length` (RESOURCE_EXHAUSTED) and gzip.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toS3ParquetError } from '../errors.js';
import type { Signal } from '../otlp/decode.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { exportBody } from './export.js';
import type { RunningReceiver } from './http.js';

const SERVICES: Readonly<Record<Signal, string>> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

export interface GrpcReceiverOptions {
  readonly host: string;
  readonly port: number;
  readonly maxRecvBytes: number;
  readonly pipeline: Pipeline;
  readonly logger: Logger;
}

const passThrough = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function serviceDefinition(signal: Signal): grpc.ServiceDefinition {
  return {
    Export: {
      path: `/${SERVICES[signal]}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: toBuffer,
      responseDeserialize: passThrough,
      originalName: 'export',
    },
  };
}

export async function startGrpcReceiver(options: GrpcReceiverOptions): Promise<RunningReceiver> {
  const { pipeline, logger } = options;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxRecvBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });

  for (const signal of Object.keys(SERVICES) as Signal[]) {
    if (!pipeline.supports(signal)) continue;
    const handler: grpc.handleUnaryCall<Buffer, Uint8Array> = (call, callback) => {
      try {
        const reply = exportBody(pipeline, signal, 'protobuf', call.request);
        callback(null, reply.body);
      } catch (e) {
        const err = toS3ParquetError(e);
        if (err.grpcStatus === grpc.status.INTERNAL) logger.error({ err }, 'OTLP/gRPC request failed');
        else logger.debug({ code: err.code, msg: err.message }, 'OTLP/gRPC request refused');
        callback({ code: err.grpcStatus, details: err.message });
      }
    };
    server.addService(serviceDefinition(signal), { Export: handler });
  }

  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Let in-flight calls finish, but never wait on a stuck client for long.
        const force = setTimeout(() => server.forceShutdown(), 5000);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
