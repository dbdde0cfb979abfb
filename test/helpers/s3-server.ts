/**
 * A real S3 server for tests: a throw-away Ceph radosgw started by `scripts/s3-server.sh`
 * (installed with apt-get when missing and running as root on Debian). Where radosgw cannot
 * be installed (the script exits 3) and CI is not 'true', s3rver stands in, with a warning:
 * it is lighter but wrong in places (suffix ranges, deep-delimiter listings), so CI must
 * run against radosgw.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { S3ClientConfig } from '@aws-sdk/client-s3';

export type S3ServerKind = 'radosgw' | 's3rver';

export interface S3Server {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** An SSE-KMS key id the server knows (s3rver accepts any and ignores SSE). */
  readonly kmsKeyId: string;
  readonly kind: S3ServerKind;
  /** The server's files; removed by stop(). */
  readonly dir: string;
  /** The server's processes; all gone once stop() resolves. */
  readonly pids: readonly number[];
  /** Kills the server and removes `dir`. Safe to call more than once. */
  stop(): Promise<void>;
  /**
   * Stops the S3 process itself (SIGSTOP on radosgw: an outage no proxy fakes — connections
   * are accepted by the kernel and never answered) and lets it run again; its data stays.
   */
  pause(): void;
  resume(): void;
}

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const script = join(projectRoot, 'scripts', 's3-server.sh');
/** The script's exit code when radosgw is missing and cannot be installed here. */
const EXIT_CANNOT_INSTALL = 3;

export async function startS3Server(): Promise<S3Server> {
  // The script's watcher stops the cluster if this process dies without calling stop().
  const run = await runScript(['start'], { S3_SERVER_OWNER_PID: String(process.pid) });
  if (run.code === 0) return radosgw(parseEnv(run.stdout));
  if (run.code === EXIT_CANNOT_INSTALL) {
    if (process.env.CI === 'true') {
      throw new Error(`radosgw cannot be installed, and CI must test against radosgw:\n${tail(run.stderr)}`);
    }
    console.warn(
      `radosgw is not available here; testing against s3rver instead, which differs from S3 in places. ` +
        `Run as root on Debian to get radosgw.\n${tail(run.stderr)}`,
    );
    return startS3rver();
  }
  throw new Error(`scripts/s3-server.sh start exited with ${run.code}:\n${tail(run.stderr)}`);
}

/** S3Client settings every S3-compatible endpoint needs (see shared/DESIGN.md). */
export function s3ClientConfig(server: S3Server): S3ClientConfig {
  return {
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    forcePathStyle: true,
    // Default trailing checksums on streamed bodies get 411 from radosgw.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

async function radosgw(env: Map<string, string>): Promise<S3Server> {
  const get = (key: string): string => {
    const value = env.get(key);
    if (!value) throw new Error(`scripts/s3-server.sh start printed no ${key}`);
    return value;
  };
  const dir = get('S3_SERVER_DIR');
  const lines = (await readFile(join(dir, 'pids'), 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const pids = lines.map((line) => Number(line.split(' ')[1]));
  const rgw = Number(lines.find((line) => line.startsWith('radosgw '))?.split(' ')[1]);
  return {
    endpoint: get('S3_ENDPOINT'),
    accessKeyId: get('S3_ACCESS_KEY_ID'),
    secretAccessKey: get('S3_SECRET_ACCESS_KEY'),
    region: get('S3_REGION'),
    kmsKeyId: get('S3_KMS_KEY_ID'),
    kind: 'radosgw',
    dir,
    pids,
    pause: () => process.kill(rgw, 'SIGSTOP'),
    resume: () => process.kill(rgw, 'SIGCONT'),
    stop: once(async () => {
      const run = await runScript(['stop', dir], {});
      if (run.code !== 0) throw new Error(`scripts/s3-server.sh stop exited with ${run.code}:\n${tail(run.stderr)}`);
    }),
  };
}

/**
 * s3rver runs in a child process because its paged listings need `--openssl-legacy-provider`
 * (its continuation tokens use DES); the child exits when its stdin closes, so it cannot
 * outlive this process.
 */
async function startS3rver(): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 's3pq-s3rver-'));
  const code = `
    let S3rver;
    try { S3rver = require('s3rver'); } catch (e) { console.log(JSON.stringify({ error: String(e) })); process.exit(1); }
    new S3rver({ address: '127.0.0.1', port: 0, directory: process.env.S3RVER_DIR, silent: true })
      .run()
      .then((a) => console.log(JSON.stringify({ port: a.port })), (e) => { console.log(JSON.stringify({ error: String(e) })); process.exit(1); });
    process.stdin.on('end', () => process.exit(0)).resume();`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', code], {
    cwd: projectRoot,
    env: { ...process.env, S3RVER_DIR: dir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exited.then(() => resolve('{"error":"s3rver exited"}'));
  });
  const ready = JSON.parse(first) as { port?: number; error?: string };
  if (ready.port === undefined) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`s3rver did not start (is it installed? npm install -D s3rver): ${ready.error ?? first}`);
  }
  return {
    endpoint: `http://127.0.0.1:${ready.port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    kmsKeyId: 'testkey-1',
    kind: 's3rver',
    dir,
    pids: [child.pid!],
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: once(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }),
  };
}

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

function runScript(args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    // stdout and stderr are files' worth at most (apt-get's output when it installs).
    const child = spawn('bash', [script, ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return env;
}

function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

/**
 * The daemon's `[storage]`, `[s3]` and `[s3.credentials]` tables for a bucket on the test server
 * (created at start-up), reached at `endpoint` (a fault proxy in front of it, say).
 */
export function s3DaemonToml(server: S3Server, bucket: string, endpoint = server.endpoint): string {
  return `[storage]
backend = "s3"
[s3]
endpoint = "${endpoint}"
region = "${server.region}"
bucket = "${bucket}"
force_path_style = true
create_bucket = true
[s3.credentials]
type = "explicit"
access_key_id = "${server.accessKeyId}"
secret_access_key = "${server.secretAccessKey}"
`;
}
