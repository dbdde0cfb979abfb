/**
 * Everything security-related the daemon needs at startup, loaded from the config in one go:
 * TLS material per listener and the two token sets. Every problem (missing file, unreadable,
 * not PEM, key not matching the certificate, empty token file) is collected and thrown as one
 * ConfigError naming each key path, before any listener starts.
 */
import { ConfigError, type ConfigIssue } from '../config/errors.js';
import type { Config } from '../config/schema.js';
import { loadAuth, type BearerAuth } from './auth.js';
import { grpcServerSettings, httpServerLimits, type GrpcServerSettings, type HttpServerSettings } from './listeners.js';
import { loadTls } from './tls.js';

export { BearerAuth } from './auth.js';
export { BEARER_CHALLENGE, createListener, endUpload, listen, requireBearer } from './listeners.js';
export type { GrpcServerSettings, HttpServerLimits, HttpServerSettings } from './listeners.js';
export type { TlsMaterial } from './tls.js';

export interface Security {
  readonly grpc: GrpcServerSettings;
  readonly http: HttpServerSettings;
  readonly query: HttpServerSettings;
  readonly receiverAuth: BearerAuth;
  readonly queryAuth: BearerAuth;
  /** For the startup log: what is on, never a secret. */
  readonly summary: Record<string, unknown>;
}

export function loadSecurity(config: Config): Security {
  const issues: ConfigIssue[] = [];
  const { grpc, http } = config.receivers;
  const { query, auth } = config;
  // Files of disabled listeners are not read: a disabled listener needs nothing.
  const grpcTls = grpc.enabled ? loadTls(grpc.tls, 'receivers.grpc.tls', issues) : undefined;
  const httpTls = http.enabled ? loadTls(http.tls, 'receivers.http.tls', issues) : undefined;
  const queryTls = query.enabled ? loadTls(query.tls, 'query.tls', issues) : undefined;
  const receiverAuth = loadAuth(auth.receiver_tokens, auth.receiver_token_files, 'auth.receiver_token_files', issues);
  const queryAuth = loadAuth(auth.query_tokens, auth.query_token_files, 'auth.query_token_files', issues, {
    inline: auth.query_read_only_tokens,
    files: auth.query_read_only_token_files,
    filesKeyPath: 'auth.query_read_only_token_files',
  });
  if (issues.length > 0) throw ConfigError.fromIssues(issues);
  return {
    grpc: grpcServerSettings(grpc, grpcTls, receiverAuth),
    http: { limits: httpServerLimits(http), ...(httpTls ? { tls: httpTls } : {}) },
    query: { limits: httpServerLimits(query, 'query'), ...(queryTls ? { tls: queryTls } : {}) },
    receiverAuth,
    queryAuth,
    summary: {
      tls: { grpc: tlsMode(grpcTls), http: tlsMode(httpTls), query: tlsMode(queryTls) },
      receiver_token_count: receiverAuth.tokenCount,
      query_token_count: queryAuth.tokenCount,
      ...(queryAuth.readOnlyTokenCount > 0 ? { query_read_only_token_count: queryAuth.readOnlyTokenCount } : {}),
    },
  };
}

function tlsMode(m: { ca?: Buffer } | undefined): string {
  if (m === undefined) return 'off';
  return m.ca !== undefined ? 'mutual' : 'on';
}
