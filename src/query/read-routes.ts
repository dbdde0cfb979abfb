/**
 * The Tempo- and Jaeger-compatible read APIs on the query port, behind one prefix dispatch in
 * http.ts: `/tempo/…` and `/jaeger/…` are routed by find-my-way (fastify's router), with typed
 * handlers kept in each route's store. Handlers read only through a RecordSource (`query`,
 * `catalog`): in a daemon its queries run on the query worker pool, under the same bounds as
 * `/api/v1/query` (record-source.ts), and stop when the request's client goes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import { S3ParquetError } from '../errors.js';
import { clientGone, type RecordSource, type RecordSourceFor } from './record-source.js';
import { RETRY_AFTER_SECONDS } from './pool/query-pool.js';
import { jaegerRoutes } from './jaeger/routes.js';
import { tempoRoutes } from './tempo/routes.js';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: URLSearchParams;
  /** This request's records (its queries stop when the client goes). */
  readonly source: RecordSource;
  /** The current time, ns (injected, so tests and defaults agree). */
  readonly nowNs: bigint;
}

export interface ReadRoute {
  readonly path: string;
  readonly handle: (ctx: RouteContext) => Promise<void>;
}

export interface ReadApis {
  /** Whether a path belongs to the read APIs (the prefix dispatch). */
  handles(path: string): boolean;
  /** Serves one request; errors propagate to the query server's error answer unless the API has its own envelope. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export const READ_API_PREFIXES = ['/tempo', '/jaeger'] as const;

/** `source`: the records for each request (or one source for every request, e.g. an engine). */
export function createReadApis(source: RecordSource | RecordSourceFor, o: { now?: () => number } = {}): ReadApis {
  const sourceFor: RecordSourceFor = typeof source === 'function' ? source : () => source;
  const router = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 2048 });
  const add = (prefix: string, routes: readonly ReadRoute[]): void => {
    for (const r of routes) router.on('GET', prefix + r.path, () => undefined, r);
  };
  add('/tempo', tempoRoutes());
  add('/jaeger', jaegerRoutes());
  const now = o.now ?? Date.now;
  return {
    handles: (path) => READ_API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`)),
    async serve(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
      const found = router.find(method as 'GET', url.pathname);
      if (!found) {
        const other = router.find('GET', url.pathname);
        if (other) throw new S3ParquetError('METHOD_NOT_ALLOWED', `use GET ${url.pathname}`);
        throw new S3ParquetError('NOT_FOUND', `no route ${req.method} ${url.pathname}`);
      }
      const route = found.store as ReadRoute;
      await route.handle({ req, res, params: found.params, query: url.searchParams, source: sourceFor(clientGone(res)), nowNs: BigInt(now()) * 1_000_000n });
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendBytes(res: ServerResponse, contentType: string, body: Uint8Array | string): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': buf.byteLength });
  res.end(buf);
}

/** A whole number within [min, max] from a query parameter, or `fallback` when absent; a 400 naming it otherwise. */
export function intParam(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new S3ParquetError('INVALID_ARGUMENT', `invalid "${name}" ${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

/** A refusal for concurrency tells the client when to retry, in an API's own error envelope too. */
export function retryAfter(res: ServerResponse, err: S3ParquetError): void {
  if (err.code === 'TOO_MANY_QUERIES' && !res.headersSent) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
}
