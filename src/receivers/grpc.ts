/**
 * OTLP/gRPC receiver: `opentelemetry.proto.collector.{trace,logs,metrics}.v1.*Service/Export`.
 *
 * Messages are registered with pass-through (de)serializers, so grpc-js hands us raw bytes and
 * a decode failure becomes INVALID_ARGUMENT with our message rather than a transport error.
 * grpc-js itself enforces `max_receive_message_length` (RESOURCE_EXHAUSTED) and inflates gzip;
 * compressed calls are admitted against the memory limit first (grpc-admission.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, type AddressInfo } from 'node:net';
import { afterPreface, guardConnections } from '../security/connections.js';
import type { Logger } from 'pino';
import { RateLimitedLog } from '../log-rate-limit.js';
import { toS3ParquetError, type S3ParquetError } from '../errors.js';
import { grpcAdmission } from './grpc-admission.js';
import type { Signal } from '../otlp/decode.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { exportBody } from './export.js';
import { otlpTypes } from '../otlp/proto-root.js';
import type { RunningReceiver } from './http.js';
import type { ReceiverObserver } from './observer.js';
import type { GrpcServerSettings } from '../security/index.js';

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
  /** Told about every Export call (metrics, request logs). */
  readonly observer?: ReceiverObserver;
  /** TLS credentials, stream/keepalive limits and the token + receive-timeout interceptor (src/security). */
  readonly server?: GrpcServerSettings;
}

/** The client connection preface of HTTP/2 (RFC 9113 §3.4). */
const HTTP2_PREFACE_BYTES = 24;

function signalOf(path: string): Signal | null {
  for (const signal of Object.keys(SERVICES) as Signal[]) if (path.startsWith(`/${SERVICES[signal]}/`)) return signal;
  return null;
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

/**
 * OTLP asks servers to say when a retryable failure may be retried: a google.rpc.Status with a
 * RetryInfo detail, in the `grpc-status-details-bin` trailer.
 */
function retryInfo(code: number, message: string, delaySeconds = 1): grpc.Metadata {
  const t = otlpTypes();
  const info = t.RetryInfo.encode(t.RetryInfo.fromObject({ retryDelay: { seconds: delaySeconds } })).finish();
  const status = t.Status.encode(
    t.Status.fromObject({ code, message, details: [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: info }] }),
  ).finish();
  const md = new grpc.Metadata();
  md.set('grpc-status-details-bin', Buffer.from(status));
  return md;
}

export async function startGrpcReceiver(options: GrpcReceiverOptions): Promise<RunningReceiver> {
  const { pipeline, logger, observer } = options;
  const errorLog = new RateLimitedLog(logger);
  const refusedStatus = (err: S3ParquetError): { code: grpc.status; details: string; metadata?: grpc.Metadata } => ({
    code: err.grpcStatus, details: err.message, ...(err.retryable ? { metadata: retryInfo(err.grpcStatus, err.message) } : {}),
  });
  const admission = grpcAdmission({
    pipeline, maxRecvBytes: options.maxRecvBytes, status: refusedStatus,
    onRefused: (path, err) => {
      logger.debug({ code: err.code, msg: err.message }, 'OTLP/gRPC request refused');
      observer?.onRequest({ transport: 'grpc', signal: signalOf(path), code: grpc.status[err.grpcStatus] ?? String(err.grpcStatus), seconds: 0, accepted: 0, rejected: 0, rejectMessage: '', error: err });
    },
  });
  const server = new grpc.Server({
    ...options.server?.options,
    // After the security interceptor: the token is checked before a compressed call is charged.
    interceptors: [...(options.server?.options.interceptors ?? []), admission],
    'grpc.max_receive_message_length': options.maxRecvBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });

  for (const signal of Object.keys(SERVICES) as Signal[]) {
    if (!pipeline.supports(signal)) continue;
    const handler: grpc.handleUnaryCall<Buffer, Uint8Array> = (call, callback) => {
      const started = performance.now();
      exportBody(pipeline, signal, 'protobuf', call.request).then(
        (reply) => {
          callback(null, reply.body);
          observer?.onRequest({
            transport: 'grpc', signal, code: 'OK', seconds: (performance.now() - started) / 1000,
            accepted: reply.accepted, rejected: reply.rejected, rejectMessage: reply.errorMessage,
          });
        },
        (e: unknown) => {
          const err = toS3ParquetError(e);
          observer?.onRequest({
            transport: 'grpc', signal, code: grpc.status[err.grpcStatus] ?? String(err.grpcStatus), seconds: (performance.now() - started) / 1000,
            accepted: 0, rejected: 0, rejectMessage: '', error: err,
          });
          if (err.grpcStatus === grpc.status.INTERNAL) errorLog.error(err.code, { err }, 'OTLP/gRPC request failed');
          else logger.debug({ code: err.code, msg: err.message }, 'OTLP/gRPC request refused');
          callback(refusedStatus(err));
        },
      );
    };
    server.addService(serviceDefinition(signal), { Export: handler });
  }

  const connections = options.server?.connections;
  const credentials = options.server?.credentials ?? grpc.ServerCredentials.createInsecure();
  if (connections === undefined) {
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${options.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
    return { port, close: () => shutdown(server) };
  }
  // Our own TCP listener hands connections to grpc-js, so they can be capped and timed out
  // before HTTP/2 (grpc-js itself closes idle connections only after they are set up).
  const injector = server.createConnectionInjector(credentials);
  // Plaintext: handed to grpc-js only once the HTTP/2 preface is in (or closed at the handshake
  // timeout). With TLS the socket goes to grpc-js at once, whose TLS server closes it when the
  // handshake has not finished by the same timeout (GrpcServerTls, src/security/tls.ts).
  const tcp = createServer((socket) => {
    if (socket.destroyed) return; // refused by the per-client cap
    if (connections.plaintext && connections.handshakeTimeoutMs > 0) {
      afterPreface(socket, HTTP2_PREFACE_BYTES, connections.handshakeTimeoutMs, () => injector.injectConnection(socket));
    } else injector.injectConnection(socket);
  });
  tcp.maxConnections = connections.max;
  const sockets = guardConnections(tcp, { maxPerClient: connections.perClient, handshakeTimeoutMs: 0 });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port, options.host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  return {
    port: (tcp.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      await shutdown(server);
      injector.destroy();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** Lets in-flight calls finish, but never waits on a stuck client for long. */
function shutdown(server: grpc.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), 5000);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
