/**
 * Security and hardening keys: `[receivers.*.tls]` / `[query.tls]`, `[auth]`, and the
 * timeouts and connection limits of the HTTP listeners. Files named here (certificates,
 * keys, token files) are read when the daemon starts (src/security/), where a missing or
 * unreadable file is reported with its key path.
 */
import * as z from 'zod';
import { checked, nonEmpty, oneOf, optionalTable, positiveNumber, str, table, wholeNumber } from './fields.js';

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** Present = TLS on for that listener; `client_ca_file` also requires client certificates. */
export const tlsSchema = optionalTable({
  cert_file: nonEmpty('expected the path of a PEM certificate (chain) file'),
  key_file: nonEmpty('expected the path of a PEM private key file'),
  client_ca_file: str().default(''),
  min_version: oneOf(TLS_VERSIONS).default('TLSv1.2'),
});

/** A bearer token travels in an HTTP header: visible ASCII only. Never echoed in errors. */
export function tokenProblem(token: string): string | undefined {
  if (token.length === 0) return 'a token must not be empty';
  if (!/^[\x21-\x7e]+$/.test(token)) return 'a token may only contain visible ASCII characters (no spaces)';
  return undefined;
}

const tokens = () =>
  z.array(checked(str('expected a token string'), tokenProblem), { error: 'expected an array of token strings' }).default(() => []);
const files = () => z.array(nonEmpty('expected a non-empty file path'), { error: 'expected an array of file paths' }).default(() => []);

/** Empty lists on a side = no authentication for that side. */
export const authSchema = table({
  receiver_tokens: tokens(),
  receiver_token_files: files(),
  query_tokens: tokens(),
  query_token_files: files(),
  // Query tokens that may read but not change data (no DELETE of partitions).
  query_read_only_tokens: tokens(),
  query_read_only_token_files: files(),
});

/** Timeouts and limits shared by the OTLP/HTTP receiver and the query port. */
export function httpServerKeys(maxConnections: number, maxPerClient = 0) {
  return {
    read_header_timeout_seconds: positiveNumber().default(10),
    request_timeout_seconds: positiveNumber().default(60),
    keep_alive_timeout_seconds: positiveNumber().default(5),
    max_connections: wholeNumber(1).default(maxConnections),
    max_requests_per_socket: wholeNumber(0).default(0),
    max_headers_count: wholeNumber(1, 10_000).default(100),
    // Connections one remote address may hold (0 = no cap); beyond it they are closed at once.
    max_connections_per_client: wholeNumber(0).default(maxPerClient),
    // A connection that has sent nothing by then is closed (Node's header timeout starts at the first byte).
    handshake_timeout_seconds: positiveNumber().default(5),
  };
}

/** Node refuses a header timeout longer than the request timeout: say so with the key. */
export function checkHttpTimeouts(t: { read_header_timeout_seconds: number; request_timeout_seconds: number }, ctx: z.core.$RefinementCtx): void {
  if (t.read_header_timeout_seconds > t.request_timeout_seconds) {
    ctx.addIssue({
      code: 'custom',
      message: `must not exceed request_timeout_seconds (${t.request_timeout_seconds})`,
      path: ['read_header_timeout_seconds'],
      input: t.read_header_timeout_seconds,
    });
  }
}

/** gRPC server limits (grpc-js channel options). */
export const grpcServerKeys = {
  max_concurrent_streams: wholeNumber(1).default(100),
  keepalive_time_seconds: positiveNumber().default(7200),
  keepalive_timeout_seconds: positiveNumber().default(20),
  max_connection_idle_seconds: wholeNumber(0).default(300),
  max_connection_age_seconds: wholeNumber(0).default(0),
  request_timeout_seconds: positiveNumber().default(60),
  // Within the gRPC share of the process's descriptor limit (docs/security.md).
  max_connections: wholeNumber(1).default(1000),
  max_connections_per_client: wholeNumber(0).default(0),
  // A connection that has not sent the HTTP/2 preface by then is closed.
  handshake_timeout_seconds: positiveNumber().default(5),
};

