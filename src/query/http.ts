/**
 * The query port: JSON over HTTP, loopback by default because it exposes data.
 *
 *   GET    /api/v1/partitions?dataset=traces[&prefix=date=2024-01-01]
 *   POST   /api/v1/query            {dataset, partition?, start?, end?, filter?, select?, limit?, format?}
 *   GET    /api/v1/traces/{trace_id}[?start=&end=]
 *   DELETE /api/v1/partitions/{dataset}/{partition path}
 *   GET    /api/v1/changes?dataset=logs[&cursor=…][&filter=…][&select=a,b][&max_entries=N]
 *   GET    /tempo/…, /jaeger/…     Tempo- and Jaeger-compatible read APIs (read-routes.ts)
 *
 * `changes` answers NDJSON records of the files written since the cursor (from the beginning of
 * the write log without one); the next cursor is in `X-Next-Cursor`, chosen before the body.
 *
 * `format: "ndjson"` streams one record per line with the socket's backpressure, so memory
 * stays flat however large the result; `arrow` answers an Arrow IPC stream; `json` is buffered
 * up to `maxJsonBytes`. With a `pool`, queries, changes reads and trace lookups run on worker
 * threads (src/query/pool), bounded as docs/query-limits.md says — and so do the reads of the
 * Tempo/Jaeger APIs and the UI's summaries (record-source.ts); this thread only routes.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { RateLimitedLog } from '../log-rate-limit.js';
import { S3ParquetError, toS3ParquetError } from '../errors.js';
import { emptyStats, type ChangesOptions, type FileQueryOptions, type QueryEngine, type QueryOptions, type QueryStats } from './engine.js';
import { execute } from './pool/execute.js';
import type { QueryTask } from './pool/messages.js';
import { RETRY_AFTER_SECONDS, type QueryPool } from './pool/query-pool.js';
import { checkPartitionPath } from './partitions.js';
import { parseRfc3339Ns } from './time.js';
import { uiRoutes } from './ui/routes.js';
import { createReadApis } from './read-routes.js';
import { clientGone, poolRecordSource, type RecordSourceFor } from './record-source.js';
import { BEARER_CHALLENGE, createListener, listen, requireBearer, type BearerAuth, type HttpServerSettings } from '../security/index.js';

const MAX_QUERY_BODY = 1024 * 1024;
const TRACE_ID = /^[0-9a-f]{32}$/;

export interface QueryServerOptions {
  readonly host: string;
  readonly port: number;
  readonly engine: QueryEngine;
  readonly logger: Logger;
  /** Extra routes served on the same port (metrics, health), tried first — before the token check. */
  readonly extraRoutes?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** TLS and timeouts/connection limits (src/security); Node's defaults without. */
  readonly server?: HttpServerSettings;
  /** Bearer tokens required on every API request when enabled ([auth] query_tokens). */
  readonly auth?: BearerAuth;
  /** Told when each API request ends (metrics): its route (see `queryRoute`), status and duration. */
  readonly onRequest?: (route: string, status: number, seconds: number) => void;
  /**
   * Runs queries, changes reads and trace lookups on worker threads (the daemon); without it
   * they run on this thread (`engine`), as a library embedding the port may prefer.
   */
  readonly pool?: QueryPool;
  /** Largest buffered `json` answer ([query] max_json_response_mb); 16 MiB by default. */
  readonly maxJsonBytes?: number;
}

const DEFAULT_MAX_JSON_BYTES = 16 * 1024 * 1024;

/** The route label of an API request (`query`, `trace`, `partitions`, `delete_partition`, `changes`), or null. */
export function queryRoute(url: string | undefined): string | null {
  const path = (url ?? '/').split('?')[0]!;
  if (path === '/api/v1/query') return 'query';
  if (path === '/api/v1/partitions') return 'partitions';
  if (path === '/api/v1/changes') return 'changes';
  if (path.startsWith('/api/v1/partitions/')) return 'delete_partition';
  if (path.startsWith('/api/v1/traces/')) return 'trace';
  if (path.startsWith('/tempo/')) return 'tempo';
  if (path.startsWith('/jaeger/')) return 'jaeger';
  return null;
}

export interface RunningQueryServer {
  readonly port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_QUERY_BODY) throw new S3ParquetError('PAYLOAD_TOO_LARGE', `query body exceeds ${MAX_QUERY_BODY} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new S3ParquetError('INVALID_ARGUMENT', `query body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new S3ParquetError('INVALID_ARGUMENT', 'query body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new S3ParquetError('INVALID_ARGUMENT', `"${key}" must be a string`);
  return v;
}

function optionalTime(value: string | undefined, key: string): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const ns = parseRfc3339Ns(value);
  if (ns === null) throw new S3ParquetError('INVALID_ARGUMENT', `"${key}" must be an RFC 3339 time such as 2024-01-01T00:00:00Z, got ${JSON.stringify(value)}`);
  return ns;
}

/** The body of POST /api/v1/query → engine options (every field checked, errors name it). */
export function queryOptionsFrom(body: Record<string, unknown>): QueryOptions & { format: 'json' | 'ndjson' | 'arrow' } {
  const known = new Set(['dataset', 'partition', 'start', 'end', 'filter', 'select', 'limit', 'format']);
  for (const k of Object.keys(body)) if (!known.has(k)) throw new S3ParquetError('INVALID_ARGUMENT', `unknown field "${k}" in query body`);
  const dataset = optionalString(body, 'dataset');
  if (dataset === undefined) throw new S3ParquetError('INVALID_ARGUMENT', '"dataset" is required (traces, logs or metrics)');
  const select = body.select;
  if (select !== undefined && (!Array.isArray(select) || select.some((s) => typeof s !== 'string'))) {
    throw new S3ParquetError('INVALID_ARGUMENT', '"select" must be an array of column names');
  }
  const limit = body.limit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)) {
    throw new S3ParquetError('INVALID_ARGUMENT', '"limit" must be a whole number >= 0');
  }
  const format = optionalString(body, 'format') ?? 'json';
  if (format !== 'json' && format !== 'ndjson' && format !== 'arrow') throw new S3ParquetError('INVALID_ARGUMENT', '"format" must be json, ndjson or arrow');
  const partition = optionalString(body, 'partition');
  const filter = optionalString(body, 'filter');
  const start = optionalTime(optionalString(body, 'start'), 'start');
  const end = optionalTime(optionalString(body, 'end'), 'end');
  return {
    dataset,
    format,
    ...(partition !== undefined ? { partition } : {}),
    ...(filter !== undefined ? { filter } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(select !== undefined ? { select: select as string[] } : {}),
    ...(limit !== undefined ? { limit: limit as number } : {}),
  };
}

/** The query string of GET /api/v1/changes → engine options (unknown parameters refused). */
export function changesOptionsFrom(params: URLSearchParams): ChangesOptions {
  const known = new Set(['dataset', 'cursor', 'filter', 'select', 'max_entries']);
  for (const k of params.keys()) if (!known.has(k)) throw new S3ParquetError('INVALID_ARGUMENT', `unknown parameter "${k}"; expected dataset, cursor, filter, select or max_entries`);
  const dataset = params.get('dataset');
  if (dataset === null || dataset === '') throw new S3ParquetError('INVALID_ARGUMENT', '"dataset" is required (traces, logs or metrics)');
  const cursor = params.get('cursor');
  const filter = params.get('filter');
  const select = params.get('select');
  const max = params.get('max_entries');
  if (max !== null && !/^[1-9]\d{0,5}$/.test(max)) throw new S3ParquetError('INVALID_ARGUMENT', `"max_entries" must be a whole number from 1 to 999999, got ${JSON.stringify(max)}`);
  return {
    dataset,
    ...(cursor !== null && cursor !== '' ? { cursor } : {}),
    ...(filter !== null && filter.trim() !== '' ? { filter } : {}),
    ...(select !== null && select !== '' ? { select: select.split(',').map((c) => c.trim()).filter(Boolean) } : {}),
    ...(max !== null ? { maxEntries: Number(max) } : {}),
  };
}

/**
 * Writes a chunk and waits for the socket to drain when its buffer is full — or until `halt`
 * aborts (the query was stopped: its error is to be written now, not after the client reads).
 */
async function writeChunk(res: ServerResponse, chunk: Uint8Array, halt: AbortSignal): Promise<void> {
  if (res.write(chunk) || halt.aborted) return;
  if (res.destroyed) {
    // Wait for 'close', so the query's client-gone signal (listening for it) fires before the
    // answer is abandoned: the pool then counts a disconnect and stops the worker at once.
    if (!res.closed) await new Promise<void>((resolve) => res.once('close', () => resolve()));
    throw new Error('client closed the connection');
  }
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      res.off('close', closed);
      res.off('drain', done);
      halt.removeEventListener('abort', done);
      resolve();
    };
    const closed = (): void => {
      res.off('drain', done);
      halt.removeEventListener('abort', done);
      reject(new Error('client closed the connection'));
    };
    res.once('close', closed);
    res.once('drain', done);
    halt.addEventListener('abort', done, { once: true });
  });
}

/**
 * Streams an answer: headers only once the first batch (or the end) is there, so an error
 * that comes early is still a status; then every batch with the socket's backpressure. An
 * NDJSON answer stopped midway (deadline, memory, a failing read) ends with one line
 * `{"error":{"code","message"}}` — a complete answer never has one. The stream is closed in
 * any case, which stops its worker when the answer was not complete.
 */
async function pipeStream(res: ServerResponse, stream: AnswerStream, halt: AbortSignal, headers: () => Record<string, string>): Promise<void> {
  try {
    let r = await stream.next();
    const h = headers();
    res.writeHead(200, h);
    try {
      while (!r.done) {
        await writeChunk(res, r.value, halt);
        r = await stream.next();
      }
    } catch (e) {
      const err = toS3ParquetError(e);
      if (res.destroyed || h['Content-Type'] !== 'application/x-ndjson') throw err;
      res.end(JSON.stringify({ error: { code: err.code, message: err.message } }) + '\n');
      return;
    }
    res.end();
  } finally {
    await stream.return(emptyStats()).catch(() => undefined);
  }
}

/** A whole (buffered) answer, refused with `tooLarge` beyond `maxBytes`. */
async function gather(stream: AnswerStream, maxBytes: number, tooLarge: () => S3ParquetError): Promise<{ chunks: Uint8Array[]; stats: QueryStats }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const r = await stream.next();
      if (r.done) return { chunks, stats: r.value };
      size += r.value.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(r.value);
    }
  } finally {
    await stream.return(emptyStats()).catch(() => undefined);
  }
}

type AnswerStream = AsyncGenerator<Uint8Array, QueryStats>;

export async function startQueryServer(o: QueryServerOptions): Promise<RunningQueryServer> {
  const { engine, logger } = o;
  // The Tempo/Jaeger APIs and the UI's summaries read on the worker pool too, under its bounds.
  const pool = o.pool;
  const records: RecordSourceFor | undefined = pool ? (signal) => poolRecordSource(pool, engine, signal) : undefined;
  const ui = uiRoutes({ engine, ...(records ? { records } : {}), ...(o.auth ? { auth: o.auth } : {}) }); // the web UI (public assets) and its summary APIs (token checked)
  const readApis = createReadApis(records ?? engine);
  const maxJsonBytes = o.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;

  /** A task's answer: on the worker pool when there is one, else in this thread. */
  function open(task: QueryTask, res: ServerResponse, onStats?: (stats: QueryStats) => void): { stream: AnswerStream; halt: AbortSignal } {
    const halt = new AbortController();
    if (o.pool) return { stream: o.pool.stream(task, { signal: clientGone(res), ...(onStats ? { onStats } : {}), onStopped: () => halt.abort() }), halt: halt.signal };
    return { stream: inProcess(task, onStats), halt: halt.signal };
  }

  function inProcess(task: QueryTask, onStats?: (stats: QueryStats) => void): AnswerStream {
    return (async function* inProcess(): AnswerStream {
      const stats = emptyStats();
      yield* execute(engine, task, stats, onStats ? { onStats } : {});
      return stats;
    })();
  }
  // A client can make queries fail on purpose: their stack traces must not flood the log.
  const errorLog = new RateLimitedLog(logger);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (o.extraRoutes && (await o.extraRoutes(req, res))) return;
    if (await ui(req, res, path, url.searchParams)) return;
    requireBearer(o.auth, req.headers.authorization, 'the query API');
    if (readApis.handles(path)) return readApis.serve(req, res);

    if (path === '/api/v1/partitions') {
      if (req.method !== 'GET') throw new S3ParquetError('METHOD_NOT_ALLOWED', 'use GET /api/v1/partitions');
      const dataset = url.searchParams.get('dataset') ?? '';
      const partitions = await engine.partitions(dataset, url.searchParams.get('prefix') ?? '');
      return sendJson(res, 200, { partitions });
    }
    if (path.startsWith('/api/v1/partitions/')) {
      if (req.method !== 'DELETE') throw new S3ParquetError('METHOD_NOT_ALLOWED', 'use DELETE /api/v1/partitions/{dataset}/{partition path}');
      if (o.auth && !o.auth.canWrite(req.headers.authorization)) throw new S3ParquetError('FORBIDDEN', 'deleting a partition needs a query token that is not read-only ([auth] query_tokens)');
      // Take the raw (still percent-encoded) path so encoded traversal is seen and refused.
      const raw = (req.url ?? '').split('?')[0]!.slice('/api/v1/partitions/'.length);
      const slash = raw.indexOf('/');
      if (slash <= 0) throw new S3ParquetError('INVALID_ARGUMENT', 'expected /api/v1/partitions/{dataset}/{partition path}');
      const dataset = decodeURIComponent(raw.slice(0, slash));
      const partition = raw.slice(slash + 1);
      let decoded: string;
      try {
        decoded = decodeURIComponent(partition);
      } catch {
        throw new S3ParquetError('INVALID_ARGUMENT', `invalid partition path ${JSON.stringify(partition)}: bad percent-encoding`);
      }
      checkPartitionPath(partition); // the encoded form (and its decodings) must be clean too
      const deleted = await engine.deletePartition(dataset, decoded);
      o.pool?.forget(`${dataset}/${checkPartitionPath(decoded.replace(/\/+$/, ''))}/`);
      if (deleted === 0) throw new S3ParquetError('NOT_FOUND', `no objects under ${dataset}/${decoded}`);
      logger.info({ dataset, partition: decoded, objects: deleted }, 'partition deleted');
      res.writeHead(204).end();
      return;
    }
    if (path === '/api/v1/query') {
      if (req.method !== 'POST') throw new S3ParquetError('METHOD_NOT_ALLOWED', 'use POST /api/v1/query');
      const { format, ...q } = queryOptionsFrom(await readJson(req));
      engine.prepare(q); // every error before the first byte of the answer
      let early: QueryStats | null = null;
      const { stream, halt } = open({ kind: 'query', q, format }, res, (s) => (early = s));
      if (format === 'json') {
        const { chunks, stats } = await gather(stream, maxJsonBytes, () => new S3ParquetError('QUERY_RESULT_TOO_LARGE', `the answer is larger than ${maxJsonBytes} bytes ([query] max_json_response_mb); ask for "format": "ndjson" or "arrow" (streamed), or set a "limit"`));
        // Every record ends with a comma: drop the last one.
        const items = Buffer.concat(chunks);
        const body = Buffer.concat([Buffer.from('{"records":['), items.subarray(0, Math.max(0, items.length - 1)), Buffer.from(`],"stats":${JSON.stringify(stats)}}`)]);
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
        res.end(body);
        return;
      }
      await pipeStream(res, stream, halt, () =>
        format === 'ndjson'
          ? { 'Content-Type': 'application/x-ndjson' }
          : { 'Content-Type': 'application/vnd.apache.arrow.stream', ...(early ? { 'X-Query-Stats': JSON.stringify(early) } : {}) },
      );
      return;
    }
    if (path === '/api/v1/changes') {
      if (req.method !== 'GET') throw new S3ParquetError('METHOD_NOT_ALLOWED', 'use GET /api/v1/changes?dataset=…[&cursor=…]');
      const opts = changesOptionsFrom(url.searchParams);
      const c = await engine.changes(opts);
      const headers = {
        'Content-Type': 'application/x-ndjson',
        'X-Next-Cursor': c.nextCursor,
        'X-Changes': JSON.stringify({ files: c.files.length, entries: c.entries, more: c.more, damaged: c.damaged.length }),
      };
      if (c.files.length === 0) {
        res.writeHead(200, headers).end();
        return;
      }
      const q: FileQueryOptions = { dataset: opts.dataset, ...(opts.filter !== undefined ? { filter: opts.filter } : {}), ...(opts.select !== undefined ? { select: opts.select } : {}) };
      const files = c.files.map((f) => ({ key: f.key, bytes: f.bytes }));
      const { stream, halt } = open({ kind: 'files', q, files }, res);
      await pipeStream(res, stream, halt, () => headers);
      return;
    }
    if (path.startsWith('/api/v1/traces/')) {
      if (req.method !== 'GET') throw new S3ParquetError('METHOD_NOT_ALLOWED', 'use GET /api/v1/traces/{trace_id}');
      const id = decodeURIComponent(path.slice('/api/v1/traces/'.length)).toLowerCase();
      if (!TRACE_ID.test(id)) throw new S3ParquetError('INVALID_ARGUMENT', `invalid trace id ${JSON.stringify(id)}: expected 32 hex digits`);
      const start = optionalTime(url.searchParams.get('start') ?? undefined, 'start');
      const end = optionalTime(url.searchParams.get('end') ?? undefined, 'end');
      const { stream } = open({ kind: 'trace', id, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) }, res);
      const { chunks, stats } = await gather(stream, Number.POSITIVE_INFINITY, () => new S3ParquetError('INTERNAL', 'unreachable'));
      if (stats.rows_returned === 0) throw new S3ParquetError('NOT_FOUND', `no span with trace id ${id}`);
      const body = Buffer.concat([Buffer.from(`{"trace_id":"${id}","spans":`), ...chunks, Buffer.from(`,"stats":${JSON.stringify(stats)}}`)]);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
      return;
    }
    throw new S3ParquetError('NOT_FOUND', `no route ${req.method} ${path}`);
  }

  const server: Server = createListener((req, res) => {
    const label = o.onRequest ? queryRoute(req.url) : null;
    if (label !== null) {
      const started = performance.now();
      res.once('close', () => o.onRequest!(label, res.statusCode, (performance.now() - started) / 1000));
    }
    route(req, res).catch((e: unknown) => {
      const err = toS3ParquetError(e);
      if (res.destroyed && !res.writableFinished) {
        // The client left first (its query was stopped and its worker freed): not our failure.
        logger.debug({ path: req.url, reason: err.message }, 'query stopped: the client closed the connection');
        return;
      }
      if (err.httpStatus >= 500) errorLog.error(err.code, { err }, 'query failed');
      if (res.headersSent) {
        res.destroy(err); // mid-stream: the client sees a truncated body, not a fake success
        return;
      }
      if (err.code === 'TOO_MANY_QUERIES') res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      if (err.code === 'UNAUTHENTICATED') res.setHeader('WWW-Authenticate', BEARER_CHALLENGE).setHeader('Connection', 'close'); // body unread
      sendJson(res, err.httpStatus, { error: { code: err.code, message: err.message } });
    });
  }, o.server);
  return listen(server, o.host, o.port, false);
}
