/**
 * Operating the daemon: the hooks the stages report through (turned into metrics and log
 * lines), and the `GET /metrics`, `/healthz` and `/readyz` routes — on the query port, or on a
 * listener of their own (`[telemetry] endpoint`, or the query endpoint when the query port is
 * disabled).
 *
 * Logs written here: one line per store error, and one per rejected request or refused
 * records, rate limited per reason (at most `rejectLogLimit` lines per window; the next line
 * after a quiet spell says how many were suppressed). Messages are truncated and never carry
 * configuration values, so no secret reaches the log.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parseEndpoint, type Config } from './config/index.js';
import { DaemonMetrics, rejectReason, type BufferedCounts, type MetricsOptions } from './metrics.js';
import type { FlushBatch } from './pipeline/buffers.js';
import type { WrittenFile } from './pipeline/file-writer.js';
import type { FlushInfo } from './pipeline/pipeline.js';
import type { QueryStats } from './query/engine.js';
import type { ReceiverObserver, ReceiverRequestEvent } from './receivers/observer.js';
import type { ObjectStore, StoreRequestHook } from './store/object-store.js';
import { listen } from './security/index.js';
import { LogRateLimiter, RateLimitedLog } from './log-rate-limit.js';
import { connectionCap, guardConnections } from './security/connections.js';

/** A prefix nothing is stored under: listing it is the cheapest "is the store answering" call. */
export const READINESS_PROBE_PREFIX = '.s3parquet-readyz/';
const MAX_LOGGED_MESSAGE = 300;

// ---- rate-limited logging --------------------------------------------------

export { LogRateLimiter } from './log-rate-limit.js';

const clip = (message: string): string => (message.length > MAX_LOGGED_MESSAGE ? `${message.slice(0, MAX_LOGGED_MESSAGE)}…` : message);

// ---- readiness ---------------------------------------------------------------

export interface Readiness {
  readonly ready: boolean;
  /** Why not, when not ready. */
  readonly reason?: string;
  readonly checks: { readonly listeners: string; readonly store: string; readonly wal: string; readonly flushes: string };
}

export interface TelemetryOptions extends MetricsOptions {
  readonly logger: Logger;
  /** Rejected-request log lines per reason per window (default 10 per 10 s). */
  readonly rejectLogLimit?: number;
  readonly rejectLogWindowMs?: number;
  /** How long a store check result is reused (default 1 s), and how long one may take (default 2 s). */
  readonly storeCheckCacheMs?: number;
  readonly storeCheckTimeoutMs?: number;
}

interface StoreCheck {
  readonly ok: boolean;
  readonly detail: string;
}

export class Telemetry {
  readonly metrics: DaemonMetrics;
  private readonly logger: Logger;
  private readonly limiter: LogRateLimiter;
  private readonly limitedLog: RateLimitedLog;
  private readonly now: () => number;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private store: ObjectStore | undefined;
  private listening = false;
  private walReplayed: () => boolean = () => true;
  private flushesFailing: () => boolean = () => false;
  private walWriteError: () => string | null = () => null;
  private lastCheck: { at: number; result: StoreCheck } | undefined;
  private running: Promise<StoreCheck> | undefined;

  constructor(options: TelemetryOptions) {
    this.metrics = new DaemonMetrics(options);
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.limiter = new LogRateLimiter(options.rejectLogLimit ?? 10, options.rejectLogWindowMs ?? 10_000, this.now);
    this.limitedLog = new RateLimitedLog(this.logger, options.rejectLogLimit ?? 10, options.rejectLogWindowMs ?? 10_000, this.now);
    this.cacheMs = options.storeCheckCacheMs ?? 1000;
    this.timeoutMs = options.storeCheckTimeoutMs ?? 2000;
  }

  // ---- wiring ----------------------------------------------------------------

  /**
   * The store readiness checks, the buffered gauges' source, and whether flushes are failing
   * (reported by /readyz for information: the write-ahead log keeps accepting meanwhile).
   */
  attach(parts: { readonly store: ObjectStore; readonly buffered: () => BufferedCounts; readonly flushesFailing?: () => boolean }): void {
    this.store = parts.store;
    this.metrics.setBufferSource(parts.buffered);
    if (parts.flushesFailing) this.flushesFailing = parts.flushesFailing;
  }

  /** Listeners are all up (true) or closing (false). */
  setListening(up: boolean): void {
    this.listening = up;
  }

  /** Whether the write-ahead log has been replayed (ready only once it has); true until set. */
  setWalReplayed(source: () => boolean): void {
    this.walReplayed = source;
  }

  setWalBytesSource(source: () => number): void {
    this.metrics.setWalBytesSource(source);
  }

  /** The write-ahead log's last write failure (ENOSPC…) until a write succeeds again: not ready meanwhile. */
  setWalWriteErrorSource(source: () => string | null): void {
    this.walWriteError = source;
  }

  setQueriesRunningSource(source: () => number): void {
    this.metrics.setQueriesRunningSource(source);
  }

  /** For the query pool's `onStop` option. */
  readonly onQueryStopped = (reason: string): void => {
    this.metrics.observeQueryStopped(reason);
  };

  // ---- hooks -------------------------------------------------------------------

  /** For the receivers' `observer` option. Never throws into a receiver. */
  readonly receiverObserver: ReceiverObserver = {
    onRequest: (e: ReceiverRequestEvent) => {
      try {
        this.metrics.observeRequest(e);
        this.logRejection(e);
      } catch (err) {
        this.logger.error({ err }, 'telemetry: cannot record a request');
      }
    },
  };

  /** For the stores' `onRequest` option. */
  readonly onStoreRequest: StoreRequestHook = (operation, ok, ms, error) => {
    this.metrics.observeStoreRequest(operation, ok, ms);
    if (!ok) this.limitedLog.warn(`store:${operation}`, { operation, duration_ms: Math.round(ms), error: clip(error?.message ?? 'unknown error') }, 'store request failed');
  };

  /** For the pipeline's `onFileWritten` option. */
  readonly onFileWritten = (file: WrittenFile, flush: FlushBatch): void => {
    this.metrics.observeFile(flush.dataset, file.rows, file.bytes);
  };

  /** For the write log's `onAppendFailed` option. */
  readonly onLogAppendFailed = (err: Error, dataset: string, files: readonly { readonly key: string }[]): void => {
    this.metrics.observeLogAppendFailure(dataset);
    this.logger.error({ err, dataset, files: files.length, first: files[0]?.key }, 'write log append failed; the entry is kept and retried, and queries list partitions until it lands');
  };

  /** For the pipeline's `onFlush` option. */
  readonly onFlush = (flush: FlushInfo): void => {
    this.metrics.observeFlush(flush.dataset, flush.rawBytes, flush.bytes, flush.seconds);
  };

  /** For the query server's `onRequest` option. */
  readonly onQueryRequest = (route: string, _status: number, seconds: number): void => {
    this.metrics.observeQueryRequest(route, seconds);
  };

  /** For the query engine's `onQuery` option. */
  readonly onQuery = (stats: QueryStats): void => {
    this.metrics.observeQuery(stats.rows_returned, stats.elapsed_ms);
  };

  private logRejection(e: ReceiverRequestEvent): void {
    if (e.error) {
      // Internal failures are logged with their stack by the receiver itself.
      if (e.error.code === 'INTERNAL') return;
      const reason = e.error.code.toLowerCase();
      const suppressed = this.limiter.take(`request:${reason}`);
      if (suppressed === null) return;
      this.logger.warn(
        { signal: e.signal, transport: e.transport, code: e.code, reason, error: clip(e.error.message), suppressed },
        'request rejected',
      );
    } else if (e.rejected > 0) {
      const reason = rejectReason(e.rejectMessage);
      const suppressed = this.limiter.take(`records:${reason}`);
      if (suppressed === null) return;
      this.logger.warn(
        { signal: e.signal, transport: e.transport, reason, rejected: e.rejected, accepted: e.accepted, error: clip(e.rejectMessage), suppressed },
        'records rejected',
      );
    }
  }

  // ---- health ----------------------------------------------------------------

  /**
   * Ready: listeners up, store answering (checked at most once per `storeCheckCacheMs`), WAL
   * replayed. `flushes` is information only: failing flushes are retried, and accepted data is
   * in the write-ahead log meanwhile.
   */
  async readiness(): Promise<Readiness> {
    const listeners = this.listening ? 'ok' : 'listeners are not up';
    const walError = this.walWriteError();
    const wal = !this.walReplayed() ? 'write-ahead log not replayed yet' : walError !== null ? `write-ahead log writes failing: ${walError}` : 'ok';
    const store = await this.checkStore();
    const flushes = this.flushesFailing() ? 'failing; retrying with backoff' : 'ok';
    const problems = [listeners, store.ok ? 'ok' : store.detail, wal].filter((c) => c !== 'ok');
    return {
      ready: problems.length === 0,
      ...(problems.length > 0 ? { reason: problems.join('; ') } : {}),
      checks: { listeners, store: store.ok ? 'ok' : store.detail, wal, flushes },
    };
  }

  private async checkStore(): Promise<StoreCheck> {
    const store = this.store;
    if (!store) return { ok: false, detail: 'store not open' };
    if (this.lastCheck && this.now() - this.lastCheck.at < this.cacheMs) return this.lastCheck.result;
    this.running ??= (async (): Promise<StoreCheck> => {
      let result: StoreCheck;
      try {
        for await (const _ of store.list(READINESS_PROBE_PREFIX)) break;
        result = { ok: true, detail: 'ok' };
      } catch (err) {
        result = { ok: false, detail: `store unreachable: ${clip((err as Error).message)}` };
      }
      this.lastCheck = { at: this.now(), result };
      return result;
    })().finally(() => {
      this.running = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<StoreCheck>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `store unreachable: no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- routes ------------------------------------------------------------------

  /**
   * GET /metrics, /healthz, /readyz; true when it answered. Shaped as the query server's
   * `extraRoutes`, and the whole of the telemetry listener.
   */
  readonly routes = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `use GET ${path}` } }, { Allow: 'GET, HEAD' });
      return true;
    }
    if (path === '/metrics') {
      const text = await this.metrics.text();
      res.writeHead(200, { 'Content-Type': this.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    } else if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else {
      const r = await this.readiness();
      sendJson(res, r.ready ? 200 : 503, r.ready ? { status: 'ready', checks: r.checks } : { status: 'not ready', reason: r.reason, checks: r.checks });
    }
    return true;
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

// ---- where the routes are served -----------------------------------------------

export type TelemetryPlacement =
  | { readonly kind: 'off' }
  | { readonly kind: 'query-port' }
  | { readonly kind: 'own'; readonly host: string; readonly port: number };

/**
 * `enabled = false`: nowhere. `endpoint = ""` (or the query endpoint itself): on the query port
 * when it is enabled, else on a listener of their own at the query endpoint. Any other
 * endpoint: a listener of their own there.
 */
export function telemetryPlacement(config: Pick<Config, 'telemetry' | 'query'>): TelemetryPlacement {
  if (!config.telemetry.enabled) return { kind: 'off' };
  const endpoint = config.telemetry.endpoint;
  // The query endpoint itself means the query port — unless its port is 0 (any free port).
  if (endpoint === '' || (endpoint === config.query.endpoint && parseEndpoint(endpoint).port !== 0)) {
    return config.query.enabled ? { kind: 'query-port' } : { kind: 'own', ...parseEndpoint(config.query.endpoint) };
  }
  return { kind: 'own', ...parseEndpoint(endpoint) };
}

export interface RunningTelemetryServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The small listener for /metrics, /healthz and /readyz when the query port does not serve them. */
export async function startTelemetryServer(options: { readonly host: string; readonly port: number; readonly telemetry: Telemetry; readonly logger: Logger }): Promise<RunningTelemetryServer> {
  const server: Server = createServer((req, res) => {
    options.telemetry.routes(req, res).then(
      (answered) => {
        if (!answered) sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${(req.url ?? '/').split('?')[0]}; use /metrics, /healthz or /readyz` } });
      },
      (err: unknown) => {
        options.logger.error({ err }, 'telemetry request failed');
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: (err as Error).message } });
        else res.destroy();
      },
    );
  });
  // Its own share of descriptors and a handshake timeout, like every listener (docs/security.md).
  server.maxConnections = connectionCap('telemetry', 1000);
  guardConnections(server, { maxPerClient: 0, handshakeTimeoutMs: 5000 });
  return listen(server, options.host, options.port, false);
}
