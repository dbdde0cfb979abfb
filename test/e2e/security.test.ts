/**
 * TLS (with and without client certificates) and bearer tokens, with the official OTel
 * exporters configured the way users configure them: certificates and a CA for the channel,
 * the token in gRPC metadata or an HTTP header. Also: the query port over TLS with its own
 * token, startup errors that name the key, and secrets kept out of logs and `check-config`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import type { SecureVersion } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { decodeStatus, jsonSpan, jsonTraceRequest, protobufTraceRequest } from '../helpers/otlp.js';
import { exportSpans, makeTraceSpans } from '../helpers/spans.js';

const RECEIVER_TOKEN = 'rcv-inline-6f1d2c9a8b7e4f30a1b2c3d4e5f60718';
const FILE_TOKEN = 'rcv-file-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d';
const QUERY_TOKEN = 'qry-inline-11223344556677889900aabbccddeeff';
const WRONG_TOKEN = 'wrong-token-ffeeddccbbaa99887766554433221100';
const SECRETS = [RECEIVER_TOKEN, FILE_TOKEN, QUERY_TOKEN, WRONG_TOKEN];
const TRACE_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface ClientTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  maxVersion?: SecureVersion;
}

function send(url: string, o: { method?: string; headers?: Record<string, string>; body?: Uint8Array; tls?: ClientTls } = {}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, ...o.tls, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

function grpcCall(client: grpc.Client, body: Uint8Array, metadata = new grpc.Metadata()): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      TRACE_PATH,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => new Uint8Array(b),
      body,
      metadata,
      { deadline: Date.now() + 5000 },
      (err, res) => (err ? reject(err) : resolve(res!)),
    ),
  );
}

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
function tokenMetadata(t: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${t}`);
  return md;
}

/** Export result as a value (the exporters report failures through the callback). */
async function tryExport(exporter: { export: GrpcExporter['export']; shutdown(): Promise<void> }, service: string): Promise<Error | undefined> {
  try {
    await exportSpans(exporter, makeTraceSpans(service));
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    await exporter.shutdown();
  }
}

describe('TLS and bearer tokens', () => {
  let dir: string;
  let pki: TestPki;
  let d: TestDaemon;
  let tokenFile: string;
  let configFile: string;
  const q = (path: string) => `https://127.0.0.1:${d.ports.query}${path}`;
  const h = (path: string) => `https://127.0.0.1:${d.ports.http}${path}`;
  const clientTls = (): ClientTls => ({ ca: pki.ca, cert: pki.client.cert, key: pki.client.key });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-security-'));
    pki = makePki(dir);
    tokenFile = join(dir, 'receiver-tokens.txt');
    await writeFile(tokenFile, `# one token a line\n\n${FILE_TOKEN}\n`);
    const security = `
[receivers.grpc.tls]
cert_file = ${JSON.stringify(pki.server.certFile)}
key_file = ${JSON.stringify(pki.server.keyFile)}
client_ca_file = ${JSON.stringify(pki.caFile)}
[receivers.http.tls]
cert_file = ${JSON.stringify(pki.server.certFile)}
key_file = ${JSON.stringify(pki.server.keyFile)}
client_ca_file = ${JSON.stringify(pki.caFile)}
[query.tls]
cert_file = ${JSON.stringify(pki.server.certFile)}
key_file = ${JSON.stringify(pki.server.keyFile)}
min_version = "TLSv1.3"
[auth]
receiver_tokens = [${JSON.stringify(RECEIVER_TOKEN)}]
receiver_token_files = [${JSON.stringify(tokenFile)}]
query_tokens = [${JSON.stringify(QUERY_TOKEN)}]
`;
    configFile = join(dir, 'secure.toml');
    await writeFile(configFile, security);
    d = await startTestDaemon(`${security}\n[buffer]\nmax_age_seconds = 3600`);
  });
  afterAll(async () => {
    await d?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the gRPC exporter with a client certificate and the token in metadata succeeds, and the spans are stored', async () => {
    const exporter = new GrpcExporter({
      url: `https://127.0.0.1:${d.ports.grpc}`,
      credentials: grpc.credentials.createSsl(pki.ca, pki.client.key, pki.client.cert),
      metadata: tokenMetadata(RECEIVER_TOKEN),
    });
    expect(await tryExport(exporter, 'tls-grpc')).toBeUndefined();
    await d.pipeline.flush();
    const rows = await duckdbQuery(`SELECT count(*)::INT AS n FROM ${datasetGlob(join(d.dir, 'data'), 'traces')} WHERE service_name = 'tls-grpc'`);
    expect(rows[0]!.n).toBe(makeTraceSpans('x').length);
  });

  it('the HTTP/protobuf and HTTP/JSON exporters with agent certificates and an Authorization header succeed', async () => {
    const proto = new ProtoExporter({ url: h('/v1/traces'), headers: bearer(RECEIVER_TOKEN), httpAgentOptions: clientTls() });
    expect(await tryExport(proto, 'tls-http-proto')).toBeUndefined();
    // The token from receiver_token_files works as well.
    const json = new JsonExporter({ url: h('/v1/traces'), headers: bearer(FILE_TOKEN), httpAgentOptions: clientTls() });
    expect(await tryExport(json, 'tls-http-json')).toBeUndefined();
    await d.pipeline.flush();
    const rows = await duckdbQuery(
      `SELECT service_name, count(*)::INT AS n FROM ${datasetGlob(join(d.dir, 'data'), 'traces')} WHERE service_name LIKE 'tls-http%' GROUP BY 1 ORDER BY 1`,
    );
    const n = makeTraceSpans('x').length;
    expect(rows).toEqual([
      { service_name: 'tls-http-json', n },
      { service_name: 'tls-http-proto', n },
    ]);
  });

  it('without a token, or with a wrong one, exporters fail: UNAUTHENTICATED and 401', async () => {
    const grpcNoToken = new GrpcExporter({ url: `https://127.0.0.1:${d.ports.grpc}`, credentials: grpc.credentials.createSsl(pki.ca, pki.client.key, pki.client.cert) });
    expect((await tryExport(grpcNoToken, 'no-token'))?.message).toMatch(/bearer token/);
    const httpWrong = new ProtoExporter({ url: h('/v1/traces'), headers: bearer(WRONG_TOKEN), httpAgentOptions: clientTls() });
    expect(await tryExport(httpWrong, 'wrong-token')).toBeInstanceOf(Error);

    const client = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createSsl(pki.ca, pki.client.key, pki.client.cert));
    try {
      const body = protobufTraceRequest(jsonTraceRequest([jsonSpan()], 'refused'));
      await expect(grpcCall(client, body)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      await expect(grpcCall(client, body, tokenMetadata(WRONG_TOKEN))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      // The query token is for reading only.
      await expect(grpcCall(client, body, tokenMetadata(QUERY_TOKEN))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      const good = protobufTraceRequest(jsonTraceRequest([jsonSpan()], 'accepted'));
      expect(await grpcCall(client, good, tokenMetadata(RECEIVER_TOKEN))).toBeInstanceOf(Uint8Array);
    } finally {
      client.close();
    }

    for (const headers of [{}, bearer(WRONG_TOKEN), bearer(QUERY_TOKEN), { Authorization: RECEIVER_TOKEN }, { Authorization: `Basic ${RECEIVER_TOKEN}` }]) {
      const res = await send(h('/v1/traces'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...headers },
        body: protobufTraceRequest(jsonTraceRequest([jsonSpan()], 'refused')),
        tls: clientTls(),
      });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(decodeStatus(res.body)).toMatchObject({ code: 16, message: expect.stringMatching(/bearer token/) });
    }
    // Unknown paths are not disclosed without a token either.
    expect((await send(h('/nope'), { tls: clientTls() })).status).toBe(401);
    await d.pipeline.flush();
    const refused = await duckdbQuery(`SELECT count(*)::INT AS n FROM ${datasetGlob(join(d.dir, 'data'), 'traces')} WHERE service_name IN ('refused', 'no-token', 'wrong-token')`);
    expect(refused[0]!.n).toBe(0);
  });

  it('without a client certificate signed by client_ca_file, the handshake fails', async () => {
    // HTTP: no certificate, then one from another CA.
    await expect(send(h('/v1/traces'), { method: 'POST', headers: bearer(RECEIVER_TOKEN), tls: { ca: pki.ca } })).rejects.toThrow();
    await expect(
      send(h('/v1/traces'), { method: 'POST', headers: bearer(RECEIVER_TOKEN), tls: { ca: pki.ca, cert: pki.strangerClient.cert, key: pki.strangerClient.key } }),
    ).rejects.toThrow();
    const httpNoCert = new ProtoExporter({ url: h('/v1/traces'), headers: bearer(RECEIVER_TOKEN), httpAgentOptions: { ca: pki.ca }, timeoutMillis: 3000 });
    expect(await tryExport(httpNoCert, 'no-cert')).toBeInstanceOf(Error);

    // gRPC: the exporter and a raw client, each without a certificate.
    const grpcNoCert = new GrpcExporter({ url: `https://127.0.0.1:${d.ports.grpc}`, credentials: grpc.credentials.createSsl(pki.ca), metadata: tokenMetadata(RECEIVER_TOKEN), timeoutMillis: 3000 });
    expect(await tryExport(grpcNoCert, 'no-cert')).toBeInstanceOf(Error);
    const client = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createSsl(pki.ca, pki.strangerClient.key, pki.strangerClient.cert));
    try {
      await expect(grpcCall(client, new Uint8Array(0), tokenMetadata(RECEIVER_TOKEN))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      client.close();
    }
    // Plain gRPC on the TLS port gets nowhere.
    const plain = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure());
    try {
      await expect(grpcCall(plain, new Uint8Array(0), tokenMetadata(RECEIVER_TOKEN))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      plain.close();
    }
  });

  it('serves the query port over TLS with its own token; min_version is enforced', async () => {
    const tls = { ca: pki.ca };
    const ok = await send(q('/api/v1/partitions?dataset=traces'), { headers: bearer(QUERY_TOKEN), tls });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString()).partitions.length).toBeGreaterThan(0);

    const body = new TextEncoder().encode(JSON.stringify({ dataset: 'traces', filter: "service_name = 'tls-grpc'", select: ['name'] }));
    const rows = await send(q('/api/v1/query'), { method: 'POST', headers: { ...bearer(QUERY_TOKEN), 'content-type': 'application/json' }, body, tls });
    expect(rows.status).toBe(200);
    expect(JSON.parse(rows.body.toString()).records).toHaveLength(makeTraceSpans('x').length);

    for (const headers of [{}, bearer(RECEIVER_TOKEN), bearer(WRONG_TOKEN)]) {
      const res = await send(q('/api/v1/query'), { method: 'POST', headers, body, tls });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(JSON.parse(res.body.toString())).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/bearer token/) } });
    }
    // [query.tls] min_version = "TLSv1.3": a TLS 1.2-only client cannot connect.
    await expect(send(q('/api/v1/partitions?dataset=traces'), { headers: bearer(QUERY_TOKEN), tls: { ...tls, maxVersion: 'TLSv1.2' } })).rejects.toThrow(
      /version|alert/i,
    );
  });

  it('never writes a token to the logs', () => {
    const text = JSON.stringify(d.logs);
    expect(text).toMatch(/refused/); // the refusals above were logged …
    for (const secret of SECRETS) expect(text).not.toContain(secret); // … without any token
    const started = d.logs.find((l) => l.msg === 'daemon started') as { security: unknown } | undefined;
    expect(started?.security).toEqual({ tls: { grpc: 'mutual', http: 'mutual', query: 'on' }, receiver_token_count: 2, query_token_count: 1 });
  });

  it('check-config redacts every token and shows the file paths', async () => {
    const r = await runCli(['check-config', '--config', configFile]);
    expect(r.code).toBe(0);
    for (const secret of SECRETS) expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stdout).toMatch(/receiver_tokens = \[ "\*\*\*redacted\*\*\*" \]/);
    expect(r.stdout).toMatch(/query_tokens = \[ "\*\*\*redacted\*\*\*" \]/);
    expect(r.stdout).toContain(tokenFile);
    expect(r.stdout).toContain(pki.server.certFile);
    // A malformed token is reported by key and position, never echoed.
    const bad = join(dir, 'bad-token.toml');
    await writeFile(bad, `[auth]\nquery_tokens = ["has space ${QUERY_TOKEN}"]\n`);
    const b = await runCli(['check-config', '--config', bad]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/auth\.query_tokens\[0\]: a token may only contain visible ASCII/);
    expect(b.stderr).not.toContain(QUERY_TOKEN);
  });

  it('refuses to start on missing or unusable TLS and token files, naming each key', async () => {
    const missing = join(dir, 'missing.pem');
    const emptyTokens = join(dir, 'empty-tokens.txt');
    const badTokens = join(dir, 'bad-tokens.txt');
    await writeFile(emptyTokens, '# nothing here\n\n');
    await writeFile(badTokens, `${FILE_TOKEN}\nhas a space ${FILE_TOKEN}\n`);
    const err = await startTestDaemon(`
[receivers.grpc.tls]
cert_file = ${JSON.stringify(missing)}
key_file = ${JSON.stringify(pki.server.keyFile)}
[receivers.http.tls]
cert_file = ${JSON.stringify(pki.server.certFile)}
key_file = ${JSON.stringify(pki.client.keyFile)}
[query.tls]
cert_file = ${JSON.stringify(pki.server.certFile)}
key_file = ${JSON.stringify(pki.server.keyFile)}
client_ca_file = ${JSON.stringify(missing)}
[auth]
receiver_token_files = [${JSON.stringify(emptyTokens)}, ${JSON.stringify(badTokens)}]
query_token_files = [${JSON.stringify(missing)}]
`).then(
      (daemon) => daemon.cleanup().then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues.map((i) => i.path)).toEqual([
      'receivers.grpc.tls.cert_file',
      'receivers.http.tls',
      'query.tls.client_ca_file',
      'auth.receiver_token_files[0]',
      'auth.receiver_token_files[1]',
      'auth.query_token_files[0]',
    ]);
    expect(issues[0]!.message).toBe(`cannot read certificate file "${missing}": ENOENT`);
    expect(issues[1]!.message).toMatch(/cannot use the certificate, key or CA: .*mismatch/);
    expect(issues[3]!.message).toBe(`token file "${emptyTokens}" holds no token`);
    expect(issues[4]!.message).toBe(`"${badTokens}" line 2: a token may only contain visible ASCII characters (no spaces)`);
    expect((err as Error).message).not.toContain(FILE_TOKEN);
  });
});
