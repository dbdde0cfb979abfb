/**
 * Hardened listeners: the node:http / node:https server behind the OTLP/HTTP receiver and the
 * query port (header and request timeouts, keep-alive, connection and header limits, TLS), and
 * the grpc-js server settings (TLS credentials, stream and keepalive limits, and an interceptor
 * that checks the bearer token on the call's metadata — before its message is read — and ends
 * calls whose message does not arrive within the request timeout).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { constants as http2constants } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import { S3ParquetError } from '../errors.js';
import type { BearerAuth } from './auth.js';
import { GrpcServerTls, httpsOptions, type TlsMaterial } from './tls.js';
import { connectionCap, guardConnections, type ListenerName } from './connections.js';

// ---- HTTP ------------------------------------------------------------------------

export interface HttpServerLimits {
  /** Time to receive the request line and headers (slow-loris headers). */
  readonly headersTimeoutMs: number;
  /** Time to receive the whole request, body included (slow-loris bodies); answered 408. */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** New connections beyond this are closed at once. */
  readonly maxConnections: number;
  /** 0 = unlimited. */
  readonly maxRequestsPerSocket: number;
  readonly maxHeadersCount: number;
  /** Connections one remote address may hold; 0 = no per-client cap. */
  readonly maxConnectionsPerClient?: number;
  /** A connection that has sent nothing by then is closed; 0 = never. */
  readonly handshakeTimeoutMs?: number;
}

export interface HttpServerSection {
  readonly read_header_timeout_seconds: number;
  readonly request_timeout_seconds: number;
  readonly keep_alive_timeout_seconds: number;
  readonly max_connections: number;
  readonly max_requests_per_socket: number;
  readonly max_headers_count: number;
  readonly max_connections_per_client: number;
  readonly handshake_timeout_seconds: number;
}

/** The limits of a listener; `max_connections` is kept within the listener's share of descriptors. */
export function httpServerLimits(s: HttpServerSection, listener: ListenerName = 'http'): HttpServerLimits {
  return {
    headersTimeoutMs: Math.ceil(s.read_header_timeout_seconds * 1000),
    requestTimeoutMs: Math.ceil(s.request_timeout_seconds * 1000),
    keepAliveTimeoutMs: Math.ceil(s.keep_alive_timeout_seconds * 1000),
    maxConnections: connectionCap(listener, s.max_connections),
    maxConnectionsPerClient: s.max_connections_per_client,
    handshakeTimeoutMs: Math.ceil(s.handshake_timeout_seconds * 1000),
    maxRequestsPerSocket: s.max_requests_per_socket,
    maxHeadersCount: s.max_headers_count,
  };
}

/** What a receiver or the query port needs to create its server; all optional. */
export interface HttpServerSettings {
  readonly limits?: HttpServerLimits;
  readonly tls?: TlsMaterial;
}

/** Node's defaults, kept for callers (tests, the library) that pass no limits. */
const NODE_DEFAULTS: HttpServerLimits = {
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: Infinity,
  maxRequestsPerSocket: 0,
  maxHeadersCount: 2000,
};

/** An http or https server with the limits applied. */
export function createListener(handler: (req: IncomingMessage, res: ServerResponse) => void, settings: HttpServerSettings = {}): Server {
  const l = settings.limits ?? NODE_DEFAULTS;
  const options = {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    // The timeouts above are enforced by a sweep at this interval (Node's default: 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
  };
  const server: Server = settings.tls
    ? createHttpsServer({ ...options, ...httpsOptions(settings.tls, l.headersTimeoutMs) }, handler)
    : createHttpServer(options, handler);
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.maxHeadersCount = l.maxHeadersCount;
  server.maxRequestsPerSocket = l.maxRequestsPerSocket;
  if (Number.isFinite(l.maxConnections)) server.maxConnections = l.maxConnections;
  if ((l.maxConnectionsPerClient ?? 0) > 0 || (l.handshakeTimeoutMs ?? 0) > 0) {
    guardConnections(server, { maxPerClient: l.maxConnectionsPerClient ?? 0, handshakeTimeoutMs: l.handshakeTimeoutMs ?? 0 });
  }
  return server;
}

/** The `WWW-Authenticate` challenge sent with every 401. */
export const BEARER_CHALLENGE = 'Bearer';

/** Throws UNAUTHENTICATED unless the request carries a valid bearer token (or auth is off). */
export function requireBearer(auth: BearerAuth | undefined, authorization: string | undefined, what: string): void {
  if (auth === undefined || !auth.enabled) return;
  if (!auth.verify(authorization)) {
    throw new S3ParquetError('UNAUTHENTICATED', `${what} needs a valid bearer token: send "Authorization: Bearer <token>"`);
  }
}

// ---- gRPC --------------------------------------------------------------------------

export interface GrpcServerSection {
  readonly max_concurrent_streams: number;
  readonly keepalive_time_seconds: number;
  readonly keepalive_timeout_seconds: number;
  readonly max_connection_idle_seconds: number;
  readonly max_connection_age_seconds: number;
  readonly request_timeout_seconds: number;
  readonly max_connections: number;
  readonly max_connections_per_client: number;
  readonly handshake_timeout_seconds: number;
}

export interface GrpcServerSettings {
  /** grpc-js server options (channel arguments and interceptors). */
  readonly options: grpc.ServerOptions;
  readonly credentials: grpc.ServerCredentials;
  /** Open connections (within the gRPC share of descriptors), per client, and the handshake timeout. */
  readonly connections?: { readonly max: number; readonly perClient: number; readonly handshakeTimeoutMs: number; readonly plaintext: boolean };
}

/**
 * The answer has been sent, but a client may still be uploading (a refused token, a timed-out
 * slow sender): end its stream with RST_STREAM(NO_ERROR), as RFC 9113 §8.1 allows after a
 * complete response, so it holds no stream slot or buffers. grpc-js keeps the HTTP/2 stream on
 * its innermost call object; when that detail is missing this does nothing.
 */
export function endUpload(call: grpc.ServerInterceptingCallInterface): void {
  const stream = (call as unknown as { stream?: { closed?: boolean; close?: (code: number) => void } }).stream;
  if (stream === undefined || typeof stream.close !== 'function') return;
  setImmediate(() => {
    if (stream.closed !== true) stream.close!(http2constants.NGHTTP2_NO_ERROR);
  });
}

/** grpc-js answers UNIMPLEMENTED when a unary call brings no message or two: that is a malformed request. */
function framingStatus<S extends { code: grpc.status; details?: string }>(status: S): S {
  if (status.code === grpc.status.UNIMPLEMENTED && /^Received (no|a second) request message/.test(status.details ?? '')) {
    return { ...status, code: grpc.status.INVALID_ARGUMENT };
  }
  return status;
}

/**
 * Checks the token on the call's metadata and bounds the time until its message has arrived.
 * Refusals go straight to the client as a status; the handler never runs.
 */
export function grpcGuard(auth: BearerAuth | undefined, requestTimeoutMs: number): grpc.ServerInterceptor {
  return (_method, call) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
    };
    const refuse = (err: S3ParquetError): void => {
      if (done) return;
      settle();
      call.sendStatus({ code: err.grpcStatus, details: err.message });
      endUpload(call);
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        timer = setTimeout(
          () => refuse(new S3ParquetError('REQUEST_TIMEOUT', `the request message did not arrive within ${requestTimeoutMs / 1000} s`)),
          requestTimeoutMs,
        );
        timer.unref();
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            if (auth !== undefined && auth.enabled) {
              const values = metadata.get('authorization').map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
              if (!auth.verify(values[0])) {
                refuse(new S3ParquetError('UNAUTHENTICATED', 'this call needs a valid bearer token: send metadata "authorization: Bearer <token>"'));
                return;
              }
            }
            nextMetadata(metadata);
          },
          onReceiveMessage: (message, nextMessage) => {
            if (done) return; // already answered (timeout): drop it
            if (timer !== undefined) clearTimeout(timer);
            nextMessage(message);
          },
          onCancel: settle,
        });
      },
      sendStatus: (status, next) => {
        settle();
        next(framingStatus(status));
      },
    });
  };
}

export function grpcServerSettings(s: GrpcServerSection, tls: TlsMaterial | undefined, auth: BearerAuth | undefined): GrpcServerSettings {
  const requestTimeoutMs = Math.ceil(s.request_timeout_seconds * 1000);
  const handshakeTimeoutMs = Math.ceil(s.handshake_timeout_seconds * 1000);
  return {
    options: {
      'grpc.max_concurrent_streams': s.max_concurrent_streams,
      'grpc.keepalive_time_ms': Math.ceil(s.keepalive_time_seconds * 1000),
      'grpc.keepalive_timeout_ms': Math.ceil(s.keepalive_timeout_seconds * 1000),
      ...(s.max_connection_idle_seconds > 0 ? { 'grpc.max_connection_idle_ms': s.max_connection_idle_seconds * 1000 } : {}),
      ...(s.max_connection_age_seconds > 0
        ? { 'grpc.max_connection_age_ms': s.max_connection_age_seconds * 1000, 'grpc.max_connection_age_grace_ms': requestTimeoutMs }
        : {}),
      interceptors: [grpcGuard(auth, requestTimeoutMs)],
    },
    credentials: tls ? new GrpcServerTls(tls, handshakeTimeoutMs) : grpc.ServerCredentials.createInsecure(),
    connections: {
      max: connectionCap('grpc', s.max_connections),
      perClient: s.max_connections_per_client,
      handshakeTimeoutMs,
      plaintext: tls === undefined,
    },
  };
}

/**
 * Listens and resolves once bound (port 0 picks a free one). `close` stops accepting; with
 * `drain` it lets requests in flight finish (receivers: they are being acknowledged), else it
 * cuts every connection (query and telemetry ports: nothing to lose).
 */
export async function listen(server: Server, host: string, port: number, drain: boolean): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (drain) server.closeIdleConnections();
        else server.closeAllConnections();
      }),
  };
}
