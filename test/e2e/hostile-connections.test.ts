/**
 * Issue 21 items 4, 6 and 9 on a real process: idle connections cannot exhaust descriptors
 * (the daemon runs under `ulimit -n 2048`), one client cannot hold the query port, read-only
 * query tokens cannot delete, and an exposed receiver without protection is warned about.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';
import { waitFor } from '../helpers/wait.js';

interface Serving {
  readonly child: ChildProcess;
  readonly ports: Record<string, number>;
  readonly lines: Record<string, unknown>[];
}

/** `serve` under a low descriptor limit, through bash's ulimit. */
async function serveUnderUlimit(config: string, fds: number): Promise<Serving> {
  const child = spawn('bash', ['-c', `ulimit -n ${fds} && exec "${process.execPath}" "${CLI}" serve --config "${config}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const ports: Record<string, number> = {};
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(entry);
      if (entry.msg === 'receiver listening' || entry.msg === 'query port listening') ports[entry.transport as string] = entry.port as number;
      if (entry.msg === 'daemon started') resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, ports, lines };
}

/** Opens `n` TCP connections that never send a byte; resolves once each is connected or refused. */
async function idleConnections(port: number, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    sockets.push(s);
    opened.push(new Promise((resolve) => {
      s.once('connect', () => resolve());
      s.once('close', () => resolve());
    }));
  }
  await Promise.all(opened);
  return sockets;
}

const open = (sockets: Socket[]): number => sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;

/** Descriptors the daemon process holds (Linux): what idle connections used to exhaust. */
const descriptors = async (pid: number): Promise<number> => (await readdir(`/proc/${pid}/fd`)).length;

async function postSpans(port: number, token?: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(jsonTraceRequest([jsonSpan()])),
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('hostile connections (daemon under ulimit -n 2048)', () => {
  let dir: string;
  let s: Serving;
  let baseline: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-conn-'));
    const config = join(dir, 's3-parquet.toml');
    await writeFile(
      config,
      `
[receivers.grpc]
endpoint = "127.0.0.1:0"
handshake_timeout_seconds = 8
[receivers.http]
endpoint = "127.0.0.1:0"
handshake_timeout_seconds = 8
[query]
endpoint = "127.0.0.1:0"
max_connections_per_client = 8
[auth]
query_tokens = ["full-token"]
query_read_only_tokens = ["read-token"]
[storage]
local_path = ${JSON.stringify(join(dir, 'data'))}
instance_id = "test"
`,
    );
    s = await serveUnderUlimit(config, 2048);
    baseline = await descriptors(s.child.pid!);
  }, 60_000);

  afterAll(async () => {
    if (s && s.child.exitCode === null) {
      s.child.kill('SIGTERM');
      await once(s.child, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('2,500 idle connections to the gRPC port: OTLP/HTTP and /healthz keep working, and the idle ones are closed after the handshake timeout', async () => {
    const idle = await idleConnections(s.ports.grpc!, 2500);
    try {
      // Beyond the gRPC share (30% of 2048) connections are closed as soon as they are accepted.
      expect(await descriptors(s.child.pid!)).toBeLessThan(Math.floor(2048 * 0.3) + baseline + 50);
      expect(await postSpans(s.ports.http!)).toBe(200);
      const health = await fetch(`http://127.0.0.1:${s.ports.query}/healthz`, { signal: AbortSignal.timeout(5000) });
      expect(health.status).toBe(200);
      await waitFor(async () => (await descriptors(s.child.pid!)) < baseline + 50, 30_000, 'idle gRPC connections to be closed after the handshake timeout');
      expect(await postSpans(s.ports.http!)).toBe(200);
    } finally {
      for (const c of idle) c.destroy();
    }
  }, 60_000);

  it('2,500 idle connections to the OTLP/HTTP port: the query port still answers and the idle ones are closed', async () => {
    const idle = await idleConnections(s.ports.http!, 2500);
    try {
      expect(await descriptors(s.child.pid!)).toBeLessThan(Math.floor(2048 * 0.3) + baseline + 50);
      const health = await fetch(`http://127.0.0.1:${s.ports.query}/healthz`, { signal: AbortSignal.timeout(5000) });
      expect(health.status).toBe(200);
      await waitFor(async () => (await descriptors(s.child.pid!)) < baseline + 50, 30_000, 'idle HTTP connections to be closed');
      expect(await postSpans(s.ports.http!)).toBe(200);
    } finally {
      for (const c of idle) c.destroy();
    }
  }, 60_000);

  it('one client holding connections to the query port is capped per client; others get in', async () => {
    const held = await idleConnections(s.ports.query!, 20);
    try {
      // undici's keep-alive connection from earlier requests may hold one of the 8 slots.
      await waitFor(() => open(held) <= 8, 10_000, 'connections beyond the per-client cap to be closed');
      expect(open(held)).toBeGreaterThan(0);
    } finally {
      for (const c of held) c.destroy();
    }
    // Once the held connections are gone (the daemon sees their close), the client gets in again.
    const status = await waitFor(
      () => fetch(`http://127.0.0.1:${s.ports.query}/healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status, () => undefined),
      15_000,
      'the query port to take this client again',
    );
    expect(status).toBe(200);
  }, 30_000);

  it('a read-only query token may query but not delete a partition (403)', async () => {
    const q = await fetch(`http://127.0.0.1:${s.ports.query}/api/v1/partitions?dataset=traces`, { headers: { authorization: 'Bearer read-token' } });
    expect(q.status).toBe(200);
    const del = await fetch(`http://127.0.0.1:${s.ports.query}/api/v1/partitions/traces/date=2024-01-01`, { method: 'DELETE', headers: { authorization: 'Bearer read-token' } });
    expect(del.status).toBe(403);
    expect(((await del.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    const full = await fetch(`http://127.0.0.1:${s.ports.query}/api/v1/partitions/traces/date=2024-01-01`, { method: 'DELETE', headers: { authorization: 'Bearer full-token' } });
    expect(full.status).toBe(404); // allowed; nothing there
  });
});
