/**
 * Connection limits for every listener: a cap on open connections, a per-client cap, and a
 * handshake timeout. Without them 20,000 idle TCP connections to the gRPC port (never sending the
 * HTTP/2 preface, closed only after 300 s) used every file descriptor of the process, and
 * `/healthz` and OTLP/HTTP were reset until they went away.
 *
 * - The cap is the configured `max_connections`, and never more than a share of the process's
 *   descriptor limit (`RLIMIT_NOFILE`, read from /proc/self/limits), so one port cannot starve
 *   the others, the write-ahead log and the store's sockets.
 * - The per-client cap (by remote address) keeps one client from holding a port on its own.
 * - A connection that has sent nothing (less than an HTTP/2 preface, for gRPC) after the
 *   handshake timeout is closed. Node's own header timeout starts only with the first byte.
 */
import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';

export type ListenerName = 'grpc' | 'http' | 'query' | 'telemetry';

/**
 * Each listener's share of the descriptor limit: the receivers most, the query port less, and a
 * fifth left for Parquet files, the write-ahead log, the store's sockets and the process itself.
 */
export const FD_SHARES: Readonly<Record<ListenerName, number>> = { grpc: 0.3, http: 0.3, query: 0.15, telemetry: 0.05 };

/** Without a readable limit (not Linux): the common default soft limit. */
const FALLBACK_FD_LIMIT = 1024;

let cachedLimit: number | undefined;

/** The soft `Max open files` of this process (RLIMIT_NOFILE). */
export function descriptorLimit(): number {
  if (cachedLimit !== undefined) return cachedLimit;
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    cachedLimit = m === null ? FALLBACK_FD_LIMIT : m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    cachedLimit = FALLBACK_FD_LIMIT;
  }
  return cachedLimit;
}

/** The effective cap of a listener: the configured one, within its share of the descriptor limit. */
export function connectionCap(listener: ListenerName, configured: number, fdLimit = descriptorLimit()): number {
  const share = Math.max(16, Math.floor(fdLimit * FD_SHARES[listener]));
  return Math.max(1, Math.min(configured, share));
}

export interface ConnectionGuard {
  /** 0 = no per-client cap. */
  readonly maxPerClient: number;
  /** 0 = none. */
  readonly handshakeTimeoutMs: number;
  /** Bytes a connection must have sent by the handshake timeout (gRPC: the 24-byte HTTP/2 preface). */
  readonly minHandshakeBytes?: number;
  /** Told about each connection closed by a limit (metrics). */
  readonly onRefused?: (reason: 'per_client' | 'handshake_timeout') => void;
}

/**
 * Hands a plaintext HTTP/2 connection on only once it has sent `minBytes` (the preface): until
 * then its bytes stay buffered in the socket, and Node's HTTP/2 session takes them over when it
 * is created. A connection that has not sent them within `timeoutMs` is destroyed. (Once HTTP/2
 * owns a socket, destroying the JS socket no longer closes it, so the wait must come first.)
 */
export function afterPreface(socket: Socket, minBytes: number, timeoutMs: number, ready: () => void, onTimeout?: () => void): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => {
    socket.off('readable', check);
    onTimeout?.();
    socket.destroy();
  }, timeoutMs);
  timer.unref();
  function check(): void {
    if (socket.readableLength < minBytes) return;
    socket.off('readable', check);
    clearTimeout(timer);
    ready();
  }
  socket.on('readable', check);
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Applies the per-client cap and the handshake timeout to a server's connections (the total cap
 * is the server's own `maxConnections`). Returns the live sockets, for a forced close.
 */
export function guardConnections(server: Server, guard: ConnectionGuard): Set<Socket> {
  const sockets = new Set<Socket>();
  const perClient = new Map<string, number>();
  const minBytes = guard.minHandshakeBytes ?? 1;
  // prependListener: before the http/https server hands the socket to its parser or TLS.
  server.prependListener('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? '';
    const n = (perClient.get(client) ?? 0) + 1;
    if (guard.maxPerClient > 0 && n > guard.maxPerClient) {
      guard.onRefused?.('per_client');
      socket.destroy();
      return;
    }
    perClient.set(client, n);
    sockets.add(socket);
    let timer: NodeJS.Timeout | undefined;
    if (guard.handshakeTimeoutMs > 0) {
      timer = setTimeout(() => {
        if (socket.bytesRead < minBytes && !socket.destroyed) {
          guard.onRefused?.('handshake_timeout');
          socket.destroy();
        }
      }, guard.handshakeTimeoutMs);
      timer.unref();
    }
    socket.once('close', () => {
      if (timer !== undefined) clearTimeout(timer);
      sockets.delete(socket);
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
  });
  return sockets;
}
