/**
 * Start-up that fails fast and says why (issue 22, items 2 and 3): every impossible path is
 * one line naming the key, the path and the OS reason, within a second (in-process; the CLI
 * adds Node's own start-up); an unreachable S3 endpoint names the cause.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-startup-'));
  await writeFile(join(dir, 'a-file'), 'not a directory');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PORTS = '[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\n';
const silent = createLogger('silent');

const BAD_PATHS: { name: string; toml: () => string; key: string; path: () => string; reason: RegExp }[] = [
  { name: 'local_path under /proc', toml: () => `[storage]\nlocal_path = "/proc/nope/data"\n`, key: 'storage.local_path', path: () => '/proc/nope/data', reason: /ENOENT/ },
  { name: 'local_path under a file', toml: () => `[storage]\nlocal_path = "/etc/passwd/data"\n`, key: 'storage.local_path', path: () => '/etc/passwd/data', reason: /ENOTDIR/ },
  { name: 'wal.dir under /proc', toml: () => `[storage]\nlocal_path = "${join(dir, 'ok')}"\n[wal]\ndir = "/proc/nope/wal"\n`, key: 'wal.dir', path: () => '/proc/nope/wal', reason: /ENOENT/ },
  { name: 'wal.dir under a file', toml: () => `[storage]\nlocal_path = "${join(dir, 'ok')}"\n[wal]\ndir = "${join(dir, 'a-file', 'wal')}"\n`, key: 'wal.dir', path: () => join(dir, 'a-file', 'wal'), reason: /ENOTDIR/ },
  { name: 'client key file missing', toml: () => `[s3]\nbucket = "lake"\nendpoint = "http://127.0.0.1:1"\n[s3.encryption]\ntype = "client"\nclient_key_file = "${join(dir, 'no-key')}"\n[wal]\ndir = "${join(dir, 'wal-key')}"\n`, key: 's3.encryption.client_key_file', path: () => join(dir, 'no-key'), reason: /ENOENT/ },
];

describe('start-up path checks', () => {
  for (const c of BAD_PATHS) {
    it(`${c.name}: fails within a second naming ${c.key}`, async () => {
      const config = parseConfigText(PORTS + c.toml());
      const started = performance.now();
      const err = await startDaemon(config, { logger: silent }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const elapsed = performance.now() - started;
      expect(err).toBeInstanceOf(Error);
      expect(err!.message.split('\n')).toHaveLength(1);
      expect(err!.message.startsWith(`${c.key}: `)).toBe(true);
      expect(err!.message).toContain(JSON.stringify(c.path()));
      expect(err!.message).toMatch(c.reason);
      expect(elapsed).toBeLessThan(1000);
    });
  }

  it('the CLI prints the one line and exits 1', async () => {
    const config = join(dir, 'proc.toml');
    await writeFile(config, `${PORTS}[storage]\nlocal_path = "/proc/nope/data"\n`);
    const run = await runCli(['serve', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: storage\.local_path: cannot create or write directory "\/proc\/nope\/data": .*ENOENT/)]);
    expect(run.stdout).toBe('');
  });
});

describe('S3 errors name their cause', () => {
  it('connection refused on a closed port', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const config = parseConfigText(
      `${PORTS}[s3]\nbucket = "lake"\nendpoint = "http://127.0.0.1:${port}"\nforce_path_style = true\n[s3.credentials]\ntype = "explicit"\naccess_key_id = "a"\nsecret_access_key = "b"\n[operations]\nretry_attempts = 1\n[wal]\ndir = "${join(dir, 'wal-s3')}"\n`,
    );
    const err = await startDaemon(config, { logger: silent }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/cannot reach bucket "lake"/);
    expect(err?.message).toMatch(new RegExp(`connection refused \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
  });

  it('DNS failure', async () => {
    const config = parseConfigText(
      `${PORTS}[s3]\nbucket = "lake"\nendpoint = "http://no-such-host.invalid:9000"\nforce_path_style = true\n[s3.credentials]\ntype = "explicit"\naccess_key_id = "a"\nsecret_access_key = "b"\n[operations]\nretry_attempts = 1\n[wal]\ndir = "${join(dir, 'wal-dns')}"\n`,
    );
    const err = await startDaemon(config, { logger: silent }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/DNS lookup failed \(getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid\)/);
  });
});
