/**
 * OTLP/HTTP receiver: `POST /v1/traces` (and the other signals the pipeline supports), with
 * protobuf or JSON bodies, optionally gzip-compressed.
 *
 * Statuses follow the OTLP specification: 200 (with partial success when records were
 * rejected), 400 undecodable, 404 unknown path, 405 wrong method, 413 too large after
 * decompression, 415 unsupported content type or encoding, 503 shutting down. Error bodies are
 * a google.rpc.Status in the request's content type.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { Logger } from 'pino';
import { RateLimitedLog } from '../log-rate-limit.js';
import { S3ParquetError, toS3ParquetError } from '../errors.js';
import { encodeStatus, type Signal, type WireFormat } from '../otlp/decode.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { exportBody } from './export.js';
import type { ReceiverObserver } from './observer.js';
import { BEARER_CHALLENGE, createListener, listen, requireBearer, type BearerAuth, type HttpServerSettings } from '../security/index.js';


const PATHS: Readonly<Record<string, Signal>> = { '/v1/traces': 'traces', '/v1/logs': 'logs', '/v1/metrics': 'metrics' };
const CONTENT_TYPES: Readonly<Record<WireFormat, string>> = { protobuf: 'application/x-protobuf', json: 'application/json' };

export interface HttpReceiverOptions {
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  readonly pipeline: Pipeline;
  readonly logger: Logger;
  /** Told about every request answered (metrics, request logs). */
  readonly observer?: ReceiverObserver;
  /** TLS and timeouts/connection limits (src/security); Node's defaults without. */
  readonly server?: HttpServerSettings;
  /** Bearer tokens required on every request when enabled ([auth] receiver_tokens). */
  readonly auth?: BearerAuth;
}

export interface RunningReceiver {
  readonly port: number;
  close(): Promise<void>;
}

function wireFormat(contentType: string | undefined): WireFormat | null {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/x-protobuf') return 'protobuf';
  if (mime === 'application/json') return 'json';
  return null;
}

/**
 * Reads the body, refusing more than `limit` bytes on the wire; the socket is not drained past
 * that, so an oversized upload costs us at most `limit` bytes of memory.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new S3ParquetError('PAYLOAD_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new S3ParquetError('PAYLOAD_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    // The client went away or the request timeout cut it (Node answered 408): its fault, not ours.
    req.once('error', (err) => reject(new S3ParquetError('INVALID_ARGUMENT', `the request body was cut off (${err.message}): client gone or request timeout`, { cause: err })));
  });
}

/** Output chunk of the inflater: the granularity at which inflated bytes are admitted. */
const INFLATE_CHUNK = 256 * 1024;

/**
 * Inflates a gzip body chunk by chunk. Every chunk counts against `[buffer] memory_limit_mb`
 * while it is produced (`pipeline.chargeInflating`), so twenty concurrent gzip bombs cannot take
 * gigabytes before any of them is admitted; past the body limit it is a 413. The charge is
 * released when inflation ends: the decoded request is then admitted as any other body.
 */
async function decompress(body: Buffer, encoding: string, limit: number, pipeline: Pipeline): Promise<Buffer> {
  if (encoding === '' || encoding === 'identity') return body;
  if (encoding !== 'gzip') {
    throw new S3ParquetError('UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Encoding "${encoding}"; use gzip or none`);
  }
  let held = 0;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const gz = createGunzip({ chunkSize: INFLATE_CHUNK });
      const chunks: Buffer[] = [];
      let size = 0;
      const fail = (err: S3ParquetError): void => {
        gz.destroy();
        reject(err);
      };
      gz.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) return fail(new S3ParquetError('PAYLOAD_TOO_LARGE', `decompressed request body exceeds the limit of ${limit} bytes`));
        try {
          pipeline.chargeInflating(chunk.length, held);
        } catch (err) {
          return fail(err as S3ParquetError);
        }
        held += chunk.length;
        chunks.push(chunk);
      });
      gz.once('end', () => resolve(Buffer.concat(chunks, size)));
      gz.once('error', (err) => reject(new S3ParquetError('INVALID_ARGUMENT', `malformed gzip body: ${err.message}`, { cause: err })));
      gz.end(body);
    });
  } finally {
    pipeline.release(held);
  }
}

function send(res: ServerResponse, status: number, format: WireFormat, body: Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': CONTENT_TYPES[format], 'Content-Length': String(body.length), ...headers });
  res.end(body);
}

function sendError(res: ServerResponse, err: S3ParquetError, format: WireFormat): void {
  const headers: Record<string, string> = {};
  if (err.code === 'METHOD_NOT_ALLOWED') headers.Allow = 'POST';
  if (err.retryable) headers['Retry-After'] = '1';
  if (err.code === 'UNAUTHENTICATED') headers['WWW-Authenticate'] = BEARER_CHALLENGE;
  // An unread (oversized or unauthenticated) body is left on the socket: close it rather than reuse it.
  if (err.code === 'PAYLOAD_TOO_LARGE' || err.code === 'UNAUTHENTICATED') headers.Connection = 'close';
  send(res, err.httpStatus, format, encodeStatus(format, err.grpcStatus, err.message), headers);
}

export async function startHttpReceiver(options: HttpReceiverOptions): Promise<RunningReceiver> {
  const { pipeline, logger, maxBodyBytes, observer } = options;
  const errorLog = new RateLimitedLog(logger);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const format = wireFormat(req.headers['content-type']) ?? 'json';
    const started = performance.now();
    try {
      // First: without a valid token, not even the paths are disclosed.
      requireBearer(options.auth, req.headers.authorization, 'OTLP export');
      const path = (req.url ?? '/').split('?')[0]!;
      const signal = PATHS[path];
      if (signal === undefined || !pipeline.supports(signal)) {
        throw new S3ParquetError('NOT_FOUND', `no OTLP endpoint at ${path}; use POST /v1/traces, /v1/logs or /v1/metrics`);
      }
      if (req.method !== 'POST') throw new S3ParquetError('METHOD_NOT_ALLOWED', `method ${req.method} is not allowed on ${path}; use POST`);
      if (wireFormat(req.headers['content-type']) === null) {
        throw new S3ParquetError(
          'UNSUPPORTED_MEDIA_TYPE',
          `unsupported Content-Type "${req.headers['content-type'] ?? ''}"; use application/x-protobuf or application/json`,
        );
      }
      const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
      const raw = await readBody(req, maxBodyBytes);
      const body = await decompress(raw, encoding, maxBodyBytes, pipeline);
      const reply = await exportBody(pipeline, signal, format, body);
      send(res, 200, format, reply.body);
      observer?.onRequest({
        transport: 'http', signal, code: '200', seconds: (performance.now() - started) / 1000,
        accepted: reply.accepted, rejected: reply.rejected, rejectMessage: reply.errorMessage,
      });
    } catch (e) {
      const err = toS3ParquetError(e);
      observer?.onRequest({
        transport: 'http', signal: PATHS[(req.url ?? '/').split('?')[0]!] ?? null, code: String(err.httpStatus),
        seconds: (performance.now() - started) / 1000, accepted: 0, rejected: 0, rejectMessage: '', error: err,
      });
      if (err.httpStatus >= 500) errorLog.error(err.code, { err }, 'OTLP/HTTP request failed');
      else logger.debug({ code: err.code, msg: err.message }, 'OTLP/HTTP request refused');
      sendError(res, err, format);
    }
  }

  const server: Server = createListener((req, res) => void handle(req, res), options.server);
  return listen(server, options.host, options.port, true);
}
