/**
 * Fuzz cases and how they are sent and judged: raw HTTP/1.1 over a socket and raw gRPC over
 * HTTP/2 (so any bytes and any framing can be sent), case generators driven by the PRNG, and
 * the verdict on each answer. Used by test/e2e/fuzz.test.ts.
 */
import type { ClientHttp2Session } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { otlpTypes } from '../../src/otlp/proto-root.js';
import type { Signal } from '../../src/otlp/json-ids.js';
import { JSON_MUTATIONS, PROTO_MUTATIONS, Rng, applyGzip, mutateJson, mutateProtobuf, type GzipMode, type Seed } from './mutate.js';

/** Must match the daemon's [receivers.*] body limits in the fuzz config (1 MiB). */
export const MAX_BODY = 1024 * 1024;

export const SIGNAL_PATHS: Record<Signal, string> = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' };
export const GRPC_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};
const CT = { protobuf: 'application/x-protobuf', json: 'application/json' } as const;

// ---- raw HTTP/1.1 over a socket: any bytes, any framing --------------------------------------

export interface HttpResult {
  status?: number;
  headers: string;
  body: Buffer;
  error?: string;
  ms: number;
}

/**
 * Sends `head` and `body` on a fresh connection and reads one response: up to its
 * Content-Length, or until the server closes. The connection is not marked "close" (unless the
 * head says so), so a server that refuses before reading the body can still discard it and
 * answer, as it would for a keep-alive client, instead of resetting a half-read socket.
 */
export function rawHttp(port: number, head: string, body: Uint8Array, timeoutMs = 20_000): Promise<HttpResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connectTcp(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let size = 0;
    let error: string | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const headers = (split < 0 ? all : all.subarray(0, split)).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(headers);
      resolve({ ...(m ? { status: Number(m[1]) } : {}), headers, body: split < 0 ? Buffer.alloc(0) : all.subarray(split + 4), ...(error !== undefined ? { error } : {}), ms: Date.now() - started });
    };
    const timer = setTimeout(() => {
      error = `no answer within ${timeoutMs} ms`;
      finish();
    }, timeoutMs);
    socket.on('data', (b: Buffer) => {
      chunks.push(b);
      size += b.length;
      const all = Buffer.concat(chunks, size);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(all.subarray(0, split).toString('latin1'));
      if (length && size >= split + 4 + Number(length[1])) finish();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', finish);
    socket.write(head);
    if (body.length > 0) socket.write(body);
  });
}

export function postHead(path: string, headers: Record<string, string | undefined>, bodyLength: number | undefined): string {
  let h = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) h += `${k}: ${v}\r\n`;
  if (bodyLength !== undefined) h += `Content-Length: ${bodyLength}\r\n`;
  return h + '\r\n';
}

// ---- raw gRPC over HTTP/2: any message bytes, any frame prefix --------------------------------

export interface GrpcResult {
  httpStatus?: number;
  code?: number;
  message: string;
  error?: string;
  body: Buffer;
  ms: number;
}

export function grpcFrame(message: Uint8Array, compressed: boolean, declaredLength = message.length): Buffer {
  const f = Buffer.alloc(5 + message.length);
  f[0] = compressed ? 1 : 0;
  f.writeUInt32BE(declaredLength >>> 0, 1);
  f.set(message, 5);
  return f;
}

export function rawGrpc(session: ClientHttp2Session, path: string, payload: Uint8Array, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<GrpcResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const out: GrpcResult = { message: '', body: Buffer.alloc(0), ms: 0 };
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      out.error = `no answer within ${timeoutMs} ms`;
      req.close();
    }, timeoutMs);
    const status = (h: Record<string, unknown>): void => {
      if (h[':status'] !== undefined) out.httpStatus = Number(h[':status']);
      if (h['grpc-status'] !== undefined) {
        out.code = Number(h['grpc-status']);
        out.message = decodeURIComponent(String(h['grpc-message'] ?? ''));
      }
    };
    req.on('response', status);
    req.on('trailers', status);
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('error', (e: Error) => (out.error ??= e.message));
    req.on('close', () => {
      clearTimeout(timer);
      out.body = Buffer.concat(chunks);
      out.ms = Date.now() - started;
      resolve(out);
    });
    req.end(payload);
  });
}

// ---- cases ------------------------------------------------------------------------------

export interface FuzzCase {
  readonly id: number;
  readonly transport: 'http' | 'grpc';
  readonly what: string;
  readonly path: string;
  readonly signal?: Signal;
  readonly format?: 'protobuf' | 'json';
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly body: Uint8Array;
  /** HTTP: the full request head when the case is about framing; else built from the fields. */
  readonly head?: string;
  /** gRPC: the payload when the case is about framing; else one frame of `body`. */
  readonly grpcPayload?: Uint8Array;
  readonly grpcHeaders?: Record<string, string>;
  /** Extra answers that are right for this case (e.g. UNIMPLEMENTED for an unknown method). */
  readonly alsoOk?: readonly number[];
  /** The server may close without answering (a body over the limit it never read). */
  readonly mayReset?: boolean;
}

function mutatedBody(rng: Rng, seed: Seed, format: 'protobuf' | 'json'): { body: Uint8Array; what: string } {
  if (format === 'protobuf') {
    const m = rng.pick(PROTO_MUTATIONS);
    return { body: mutateProtobuf(rng, seed, m), what: `protobuf/${m}` };
  }
  const m = rng.pick(JSON_MUTATIONS);
  return { body: mutateJson(rng, seed, m), what: `json/${m}` };
}

const GZIP_MODES: readonly GzipMode[] = ['plain', 'plain', 'plain', 'plain', 'plain', 'gzip', 'gzip', 'corrupt-gzip', 'bomb', 'lying-header'];

export function httpCase(rng: Rng, id: number, all: Seed[]): FuzzCase {
  const seed = rng.pick(all);
  const path = SIGNAL_PATHS[seed.signal];
  if (rng.chance(0.12)) return httpFramingCase(rng, id, seed);
  const format = rng.chance(0.5) ? 'protobuf' : 'json';
  const { body: mutated, what } = mutatedBody(rng, seed, format);
  const gz = rng.pick(GZIP_MODES);
  const body = applyGzip(rng, mutated, gz);
  const contentEncoding = gz === 'plain' ? undefined : gz === 'lying-header' ? rng.pick(['gzip', 'br', 'deflate', 'gzip, gzip', 'x-gzip', '']) : 'gzip';
  return { id, transport: 'http', what: `${what}+${gz}`, path, signal: seed.signal, format, contentType: CT[format], ...(contentEncoding !== undefined ? { contentEncoding } : {}), body, mayReset: body.length > MAX_BODY };
}

function httpFramingCase(rng: Rng, id: number, seed: Seed): FuzzCase {
  const body = seed.protobuf;
  const path = SIGNAL_PATHS[seed.signal];
  const std = `Host: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-protobuf\r\n`;
  const variants: [string, string, Uint8Array][] = [
    ['no-content-type', `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    ['text-plain', `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    ['get', `GET ${path} HTTP/1.1\r\n${std}\r\n`, new Uint8Array(0)],
    ['put', `PUT ${path} HTTP/1.1\r\n${std}Content-Length: ${body.length}\r\n\r\n`, body],
    ['unknown-path', `POST /v1/tracez HTTP/1.1\r\n${std}Content-Length: ${body.length}\r\n\r\n`, body],
    ['dot-dot-path', `POST /v1/traces/../logs HTTP/1.1\r\n${std}Content-Length: ${body.length}\r\n\r\n`, body],
    ['query-string', `POST ${path}?a=1&b=%zz HTTP/1.1\r\n${std}Content-Length: ${body.length}\r\n\r\n`, body],
    ['absolute-form', `POST http://evil.example${path} HTTP/1.1\r\n${std}Content-Length: ${body.length}\r\n\r\n`, body],
    ['many-headers', `POST ${path} HTTP/1.1\r\n${std}${Array.from({ length: 300 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}Content-Length: ${body.length}\r\n\r\n`, body],
    ['huge-header', `POST ${path} HTTP/1.1\r\n${std}X-Big: ${'a'.repeat(20_000)}\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    ['short-content-length', `POST ${path} HTTP/1.1\r\n${std}Content-Length: ${Math.max(0, body.length - 7)}\r\n\r\n`, body],
    ['content-length-and-chunked', `POST ${path} HTTP/1.1\r\n${std}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, Buffer.from('0\r\n\r\n')],
    ['bad-chunk-size', `POST ${path} HTTP/1.1\r\n${std}Transfer-Encoding: chunked\r\n\r\n`, Buffer.from('fffffffffffffffff\r\nabc\r\n0\r\n\r\n')],
    ['chunked-ok', `POST ${path} HTTP/1.1\r\n${std}Transfer-Encoding: chunked\r\n\r\n`, Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])],
    ['bare-cr-header', `POST ${path} HTTP/1.1\r\n${std}X-A: a\rb\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    ['negative-length', `POST ${path} HTTP/1.1\r\n${std}Content-Length: -1\r\n\r\n`, body],
    ['declared-too-large', `POST ${path} HTTP/1.1\r\n${std}Content-Length: 99999999999\r\n\r\n`, body],
    ['http10', `POST ${path} HTTP/1.0\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    ['garbage-request-line', `\u0000\u0001GARBAGE \r\n\r\n`, new Uint8Array(0)],
    ['auth-header-junk', `POST ${path} HTTP/1.1\r\n${std}Authorization: Bearer ${'x'.repeat(5000)}\r\nContent-Length: ${body.length}\r\n\r\n`, body],
  ];
  const [what, head, b] = rng.pick(variants);
  return { id, transport: 'http', what: `http-framing/${what}`, path, head, body: b, signal: seed.signal };
}

export function grpcCase(rng: Rng, id: number, all: Seed[]): FuzzCase {
  const seed = rng.pick(all);
  const path = GRPC_PATHS[seed.signal];
  if (rng.chance(0.12)) return grpcFramingCase(rng, id, seed);
  const { body: mutated, what } = mutatedBody(rng, seed, 'protobuf');
  const mode = rng.pick<GzipMode | 'unsupported'>(['plain', 'plain', 'plain', 'plain', 'plain', 'gzip', 'gzip', 'corrupt-gzip', 'bomb', 'unsupported']);
  if (mode === 'unsupported') {
    return { id, transport: 'grpc', what: `${what}+encoding-br`, path, signal: seed.signal, body: mutated, grpcPayload: grpcFrame(mutated, true), grpcHeaders: { 'grpc-encoding': 'br' }, alsoOk: [12] };
  }
  const body = applyGzip(rng, mutated, mode === 'lying-header' ? 'plain' : mode);
  const compressed = mode !== 'plain';
  return {
    id,
    transport: 'grpc',
    what: `${what}+${mode}`,
    path,
    signal: seed.signal,
    body,
    grpcPayload: grpcFrame(body, compressed),
    ...(compressed ? { grpcHeaders: { 'grpc-encoding': 'gzip' } } : {}),
  };
}

function grpcFramingCase(rng: Rng, id: number, seed: Seed): FuzzCase {
  const b = seed.protobuf;
  const path = GRPC_PATHS[seed.signal];
  const variants: [string, Uint8Array, Record<string, string>, string, number[]][] = [
    ['length-longer', grpcFrame(b, false, b.length + 100), {}, path, []],
    ['length-shorter', grpcFrame(b, false, b.length - 3), {}, path, []],
    ['length-huge', grpcFrame(b, false, 0xffffffff), {}, path, []],
    ['two-messages', Buffer.concat([grpcFrame(b, false), grpcFrame(b, false)]), {}, path, []],
    ['no-message', new Uint8Array(0), {}, path, []],
    ['partial-prefix', Uint8Array.from([0, 0, 0]), {}, path, []],
    ['compressed-flag-no-encoding', grpcFrame(b, true), {}, path, []],
    ['unknown-method', grpcFrame(b, false), {}, path.replace('Export', 'Exporter'), [12]],
    ['unknown-service', grpcFrame(b, false), {}, '/x.Y/Export', [12]],
    ['deadline-1ns', grpcFrame(b, false), { 'grpc-timeout': '1n' }, path, []],
    ['junk-metadata', grpcFrame(b, false), { 'x-junk-bin': 'not base64 !!', authorization: 'Bearer ' + 'y'.repeat(4000) }, path, []],
    ['gzip-of-random', grpcFrame(applyGzip(rng, rng.bytes(2000), 'gzip'), true), { 'grpc-encoding': 'gzip' }, path, []],
  ];
  const [what, payload, headers, p, alsoOk] = rng.pick(variants);
  return { id, transport: 'grpc', what: `grpc-framing/${what}`, path: p, signal: seed.signal, body: b, grpcPayload: payload, grpcHeaders: headers, alsoOk };
}

// ---- verdicts ---------------------------------------------------------------------------------

/** gRPC answers that are right for hostile input. */
const GRPC_OK = new Set([0, 3, 4, 8, 14, 16]); // OK, INVALID_ARGUMENT, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE, UNAUTHENTICATED

function responseDecodes(signal: Signal | undefined, format: 'protobuf' | 'json' | undefined, body: Buffer): boolean {
  if (signal === undefined) return true;
  const t = { traces: otlpTypes().ExportTraceServiceResponse, logs: otlpTypes().ExportLogsServiceResponse, metrics: otlpTypes().ExportMetricsServiceResponse }[signal];
  try {
    if (format === 'json') JSON.parse(body.toString('utf8'));
    else t.decode(body);
    return true;
  } catch {
    return false;
  }
}

/**
 * `cutAfterMs`: the server's header timeout. A request the server could not read within it is
 * answered 408 and closed; while the client is still writing its body that close arrives as a
 * reset. On a loaded machine (the event loop busy with other requests) that is the timeout doing
 * its job, so a reset that came at least that late is accepted; an early one is not.
 */
export function httpVerdict(c: FuzzCase, r: HttpResult, cutAfterMs = Number.POSITIVE_INFINITY): string | undefined {
  if (r.status === undefined) {
    const reset = r.error !== undefined && /ECONNRESET|EPIPE/.test(r.error);
    if (reset && (c.mayReset || r.ms >= cutAfterMs)) return undefined;
    return `no HTTP answer (${r.error ?? 'connection closed'})`;
  }
  if (r.status >= 500) return `HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 200)}`;
  if (r.status === 200 && c.head === undefined && !responseDecodes(c.signal, c.format, r.body)) return 'HTTP 200 with an undecodable body';
  if (r.status < 200 || (r.status >= 300 && r.status < 400)) return `unexpected HTTP ${r.status}`;
  return undefined;
}

export function grpcVerdict(c: FuzzCase, r: GrpcResult): string | undefined {
  if (r.code === undefined) {
    if (r.httpStatus !== undefined && r.httpStatus >= 400 && r.httpStatus < 500) return undefined; // e.g. 415 from grpc-js
    return `no gRPC status (HTTP ${r.httpStatus ?? '-'}, ${r.error ?? 'stream closed'})`;
  }
  if (GRPC_OK.has(r.code) || c.alsoOk?.includes(r.code)) return undefined;
  // grpc-js (like grpc-go) answers INTERNAL when a frame's gzip cannot be inflated, before any of our code runs.
  if (r.code === 13 && r.message === 'Failed to decompress message') return undefined;
  return `gRPC ${r.code} ${r.message}`;
}

