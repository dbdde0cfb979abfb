/**
 * Start-up warnings for listeners reachable beyond this machine with no protection: anyone who
 * can reach an unprotected receiver can write (and fill the store), anyone who can reach an
 * unprotected query port can read every record and delete partitions. Not an error: a private
 * network or a proxy in front may be the protection (docs/security.md).
 */
import { isIP } from 'node:net';
import { parseEndpoint, type Config } from '../config/index.js';

/** True for loopback hosts: `localhost`, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

export interface ExposureWarning {
  readonly listener: 'grpc' | 'http' | 'query';
  readonly endpoint: string;
  readonly message: string;
}

export function exposureWarnings(config: Config): ExposureWarning[] {
  const out: ExposureWarning[] = [];
  const receiverTokens = config.auth.receiver_tokens.length + config.auth.receiver_token_files.length > 0;
  const queryTokens =
    config.auth.query_tokens.length + config.auth.query_token_files.length + config.auth.query_read_only_tokens.length + config.auth.query_read_only_token_files.length > 0;
  const receivers = [
    ['grpc', config.receivers.grpc] as const,
    ['http', config.receivers.http] as const,
  ];
  for (const [name, r] of receivers) {
    if (!r.enabled || isLoopbackHost(parseEndpoint(r.endpoint).host)) continue;
    if (!receiverTokens && r.tls === undefined) {
      out.push({ listener: name, endpoint: r.endpoint, message: `the ${name} receiver listens beyond loopback with neither [auth] receiver_tokens nor TLS: anyone who can reach it can write data` });
    }
  }
  if (config.query.enabled && !isLoopbackHost(parseEndpoint(config.query.endpoint).host)) {
    if (!queryTokens) {
      out.push({ listener: 'query', endpoint: config.query.endpoint, message: 'the query port listens beyond loopback without [auth] query_tokens: anyone who can reach it can read every record and delete partitions' });
    } else if (config.query.tls === undefined) {
      out.push({ listener: 'query', endpoint: config.query.endpoint, message: 'the query port listens beyond loopback without TLS: its tokens and answers cross the network in clear text' });
    }
  }
  return out;
}
