/**
 * The Dockerfile, checked without Docker: its instructions say what the issue asks (Node 24,
 * two stages, non-root, ports, volume, health check, entry point), every file it copies exists
 * and is not excluded by .dockerignore, the image's config file is valid, and the runtime stage's
 * install — `npm ci --omit=dev` next to dist/ and proto/ — runs the entry point: `--version`,
 * `check-config`, and `serve` taking a span and answering the HEALTHCHECK command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { telemetryPlacement } from '../../src/telemetry.js';
import { parquetFiles } from '../helpers/files.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(full);
    if (!m) throw new Error(`cannot parse Dockerfile line: ${full}`);
    out.push({ op: m[1]!.toUpperCase(), args: m[2]! });
  }
  return out;
}

/** `COPY [--flags] src… dest` → flags, sources, destination (shell form only). */
function copyParts(args: string): { flags: string[]; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  return { flags, sources: paths.slice(0, -1), dest: paths[paths.length - 1]! };
}

/** A simplified .dockerignore check: a pattern excludes a path it equals or is a parent of. */
function ignoredBy(patterns: string[], path: string): string | undefined {
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '');
  return patterns.find((p) => !p.startsWith('!') && (clean === p || clean.startsWith(`${p}/`)));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let instructions: Instruction[];
beforeAll(async () => {
  instructions = parseDockerfile(await readFile(join(root, 'Dockerfile'), 'utf8'));
});

describe('Dockerfile', () => {
  it('builds on Node 24 in two stages and runs as a non-root user with ports, volume, health check and entry point', () => {
    const froms = instructions.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(froms).toHaveLength(2);
    expect(froms[0]).toMatch(/^node:24(-slim)?(@sha256:[0-9a-f]+)? AS build$/);
    expect(froms[1]).toMatch(/^node:24(-slim)?(@sha256:[0-9a-f]+)?$/);
    const runtime = instructions.slice(instructions.findIndex((i, n) => i.op === 'FROM' && n > 0));
    const op = (name: string) => runtime.filter((i) => i.op === name).map((i) => i.args);
    expect(op('RUN').join('\n')).toMatch(/npm ci --omit=dev/);
    expect(instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n')).toMatch(/npm run build/);
    const user = op('USER');
    expect(user).toHaveLength(1);
    expect(user[0]).toMatch(/^[1-9]\d*(:\d+)?$/); // numeric, so runAsNonRoot can verify it
    expect(op('EXPOSE')).toEqual(['4317 4318 8081']);
    expect(op('VOLUME')).toEqual(['["/var/lib/s3-parquet-connector"]']);
    expect(op('HEALTHCHECK')[0]).toMatch(/CMD \["node", "-e", ".*http:\/\/127\.0\.0\.1:8081\/healthz.*"\]$/);
    expect(op('ENTRYPOINT')).toEqual(['["node", "dist/cli.js", "serve", "--config", "/etc/s3-parquet-connector/s3-parquet.toml"]']);
    expect(runtime.some((i) => i.op === 'COPY' && copyParts(i.args).dest === '/etc/s3-parquet-connector/s3-parquet.toml')).toBe(true);
  });

  it('copies only files that exist and that .dockerignore lets through', async () => {
    const ignore = (await readFile(join(root, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const copies = instructions.filter((i) => i.op === 'COPY' || i.op === 'ADD').map((i) => copyParts(i.args));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      if (c.flags.some((f) => f.startsWith('--from='))) continue; // from the build stage
      for (const src of c.sources) {
        expect(existsSync(join(root, src)), `COPY source ${src}`).toBe(true);
        expect(ignoredBy(ignore, src), `COPY source ${src} excluded by .dockerignore`).toBeUndefined();
      }
    }
    for (const heavy of ['node_modules', 'dist', '.git', 'data']) expect(ignoredBy(ignore, heavy), heavy).toBe(heavy);
  });

  it('ships a valid configuration that serves health on 8081 and keeps data on the volume', async () => {
    const config = parseConfigText(await readFile(join(root, 'docker/s3-parquet.toml'), 'utf8'), { env: {} });
    expect(config.telemetry).toEqual({ enabled: true, endpoint: '0.0.0.0:8081' });
    expect(config.query.enabled).toBe(false);
    expect(config.receivers.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(config.receivers.http.endpoint).toBe('0.0.0.0:4318');
    expect(config.storage.local_path.startsWith('/var/lib/s3-parquet-connector/')).toBe(true);
    expect(config.wal.dir.startsWith('/var/lib/s3-parquet-connector/')).toBe(true);
  });
});

describe('docs/kubernetes.md', () => {
  it('has a sidecar configuration that parses: loopback receivers, telemetry on the pod IP', async () => {
    const doc = await readFile(join(root, 'docs/kubernetes.md'), 'utf8');
    const start = doc.indexOf('  s3-parquet.toml: |\n');
    expect(start).toBeGreaterThan(0);
    const block = doc.slice(start, doc.indexOf('\n---\n', start)).split('\n').slice(1);
    const toml = block.map((l) => l.replace(/^ {4}/, '')).join('\n');
    const config = parseConfigText(toml, { env: { POD_NAME: 'checkout-7f9c8d-x2k4q' } });
    expect(config.storage.instance_id).toBe('checkout-7f9c8d-x2k4q');
    expect(config.receivers.http.endpoint).toBe('127.0.0.1:4318');
    expect(config.query.enabled).toBe(false);
    expect(telemetryPlacement(config)).toEqual({ kind: 'own', host: '0.0.0.0', port: 8081 });
    expect(config.s3.bucket).toBe('acme-telemetry');
  });
});

describe('production install (the runtime stage without Docker)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-prod-'));
    for (const f of ['package.json', 'package-lock.json']) await cp(join(root, f), join(dir, f));
    for (const d of ['dist', 'proto']) await cp(join(root, d), join(dir, d), { recursive: true });
    const npm = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, encoding: 'utf8' });
    if (npm.status !== 0) throw new Error(`npm ci --omit=dev failed (${npm.status}):\n${npm.stdout}\n${npm.stderr}`);
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: dir, encoding: 'utf8' });

  it('has no dev dependency installed', () => {
    for (const dev of ['typescript', 'vitest', '@duckdb/node-api', 'tsx', '@opentelemetry/sdk-trace-base']) expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(dir, 'node_modules', 'prom-client'))).toBe(true);
  });

  it('runs --version and check-config on the image config', async () => {
    const version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const v = cli(['--version']);
    expect(v.stderr).toBe('');
    expect(v.stdout.trim()).toBe(version);
    const check = cli(['check-config', '--config', join(root, 'docker/s3-parquet.toml')]);
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/\[telemetry\]\nenabled = true\nendpoint = "0\.0\.0\.0:8081"/);
  });

  it('serves: takes a span, answers the HEALTHCHECK command, flushes on SIGTERM', async () => {
    const port = await freePort();
    const data = join(dir, 'data');
    const toml = (await readFile(join(root, 'docker/s3-parquet.toml'), 'utf8'))
      .replace(/0\.0\.0\.0:431[78]/g, '127.0.0.1:0')
      .replaceAll('0.0.0.0:8081', `127.0.0.1:${port}`)
      .replaceAll('/var/lib/s3-parquet-connector', dir);
    await writeFile(join(dir, 'image.toml'), toml);
    const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--config', join(dir, 'image.toml')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit');
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      const httpPort = await new Promise<number>((resolve, reject) => {
        let http: number | undefined;
        createInterface({ input: child.stdout }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; transport?: string; port?: number };
          if (entry.msg === 'receiver listening' && entry.transport === 'http') http = entry.port;
          if (entry.msg === 'daemon started' && http !== undefined) resolve(http);
        });
        void exited.then(() => reject(new Error(`serve exited early: ${stderr}`)));
      });
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(jsonTraceRequest([jsonSpan({ name: 'from-the-image', startNs: BigInt(Date.now()) * 1_000_000n })])),
      });
      expect(res.status).toBe(200);
      // The HEALTHCHECK command exactly as the Dockerfile has it, pointed at this port.
      const hc = instructions.find((i) => i.op === 'HEALTHCHECK')!.args;
      const argv = JSON.parse(hc.slice(hc.indexOf('CMD ') + 4)) as string[];
      expect(argv[0]).toBe('node');
      const probe = spawnSync(process.execPath, argv.slice(1).map((a) => a.replace('127.0.0.1:8081', `127.0.0.1:${port}`)), { encoding: 'utf8' });
      expect(probe.status, probe.stderr).toBe(0);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
    }
    expect((await parquetFiles(data)).filter((f) => f.startsWith('traces/'))).toHaveLength(1);
  });
});
