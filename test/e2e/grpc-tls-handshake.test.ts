/**
 * Issue 21: the handshake timeout on the OTLP/gRPC port with TLS. grpc-js does the TLS handshake
 * there, so the timeout is handed to the TLS server it creates (GrpcServerTls). A connection that
 * never finishes its handshake (silent, or trickling a ClientHello) is closed after
 * `handshake_timeout_seconds`, instead of Node's default 120 s; clients that finish it are served.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type TestPki } from '../helpers/certs.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const TIMEOUT_S = 1;

/** Resolves with the milliseconds from connect to close, or rejects when still open at the deadline. */
function closedAfter(socket: Socket, deadlineMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`connection still open after ${deadlineMs} ms`)), deadlineMs);
    socket.on('error', () => undefined); // a reset is a close too
    socket.once('close', () => {
      clearTimeout(deadline);
      resolve(Date.now() - started);
    });
  });
}

function call(client: grpc.Client): Promise<grpc.status> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (err) =>
      resolve(err ? err.code : grpc.status.OK),
    ),
  );
}

describe('OTLP/gRPC over TLS: handshake timeout', () => {
  let dir: string;
  let pki: TestPki;
  let d: TestDaemon;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-grpc-tls-'));
    pki = makePki(dir);
    d = await startTestDaemon(`
[receivers.grpc]
handshake_timeout_seconds = ${TIMEOUT_S}
[receivers.grpc.tls]
cert_file = ${JSON.stringify(pki.server.certFile)}
key_file = ${JSON.stringify(pki.server.keyFile)}
`);
  });
  afterAll(async () => {
    await d?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('closes a connection that never starts the TLS handshake', async () => {
    const socket = connect(d.ports.grpc!, '127.0.0.1');
    const ms = await closedAfter(socket, 15_000);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 100);
  }, 20_000);

  it('closes a connection that trickles a ClientHello and never finishes it, even though it keeps sending', async () => {
    const socket = connect(d.ports.grpc!, '127.0.0.1');
    // A TLS handshake record header announcing 512 bytes, then one byte every 200 ms.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(Buffer.from([0x01]));
    }, 200);
    try {
      const ms = await closedAfter(socket, 15_000);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 100);
    } finally {
      clearInterval(trickle);
    }
  }, 20_000);

  it('serves a TLS client that completes the handshake, also after the timeout has passed', async () => {
    const client = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createSsl(pki.ca));
    try {
      expect(await call(client)).toBe(grpc.status.OK);
      await new Promise((r) => setTimeout(r, TIMEOUT_S * 1000 + 500));
      expect(await call(client)).toBe(grpc.status.OK);
    } finally {
      client.close();
    }
  }, 30_000);
});
