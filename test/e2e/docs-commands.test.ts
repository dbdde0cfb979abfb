/**
 * Issue 22: every command in the docs is one a test runs. The shell commands of README.md and
 * docs/*.md (```sh / ```bash / ```console / ```shell blocks) are extracted, classified and run,
 * in order, in a working directory with an `s3-parquet.toml` next to a daemon started here:
 *
 * - most run unchanged through `sh -c`, with the package's bin (`s3-parquet-connector`) and a
 *   `duckdb` on PATH;
 * - SUBSTITUTIONS (below, each with its reason) adapt what cannot run verbatim in a test: the
 *   fixed ports, `npx`, optional `[--arguments]`, cursors shortened with "…";
 * - ALLOWLIST (below, each with its reason) names the few that cannot run here at all.
 *
 * Each must exit 0 (curl with --fail: a 2xx answer). A command matching no rule runs verbatim, so
 * a new command in the docs is run by this test as soon as it is written.
 */
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TRACE_ID = '5b8efff798038103d269b633813fc60c'; // the id docs/query.md looks up

interface DocCommand {
  readonly file: string;
  readonly text: string;
}

/**
 * The commands of one shell block: a newline ends a command unless it is inside quotes or
 * escaped by a backslash; `#` at the start of a word begins a comment.
 */
function splitCommands(block: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < block.length; i++) {
    const ch = block[i]!;
    if (quote) {
      cur += ch;
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"') cur += block[++i] ?? '';
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      cur += ch;
    } else if (ch === '\\') {
      // Outside quotes a backslash escapes the next character; before a newline it continues the line.
      cur += block[i + 1] === '\n' ? ' ' : ch + (block[i + 1] ?? '');
      i++;
    } else if (ch === '#' && (cur === '' || /\s$/.test(cur))) {
      while (i < block.length && block[i] !== '\n') i++;
      i--;
    } else if (ch === '\n') {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

async function docCommands(): Promise<DocCommand[]> {
  const files = ['README.md', ...(await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  const out: DocCommand[] = [];
  for (const file of files) {
    const text = await readFile(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/^```(sh|bash|console|shell)\n([\s\S]*?)^```/gm)) {
      // ```console blocks prefix commands with "$ " and show output on other lines.
      const body = m[1] === 'console' ? m[2]!.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2)).join('\n') : m[2]!;
      for (const c of splitCommands(body)) out.push({ file, text: c });
    }
  }
  return out;
}

/** Commands that cannot run here, each with why. Matched against the whole command. */
const ALLOWLIST: readonly { readonly match: RegExp; readonly reason: string }[] = [
  { match: /^npm ci && npm test$/, reason: 'reinstalls dependencies from the registry, then runs the whole suite (this test is part of it)' },
  {
    match: /^(npm ci && )?npm start$/,
    reason: 'serves on the fixed default ports 4317/4318/8081, which tests never bind; `npm start` is `node dist/cli.js serve`, the daemon this test starts on free ports',
  },
  { match: /^docker (build|run) /, reason: 'needs a Docker daemon and base images from a registry; test/e2e/dockerfile.test.ts checks the Dockerfile, its COPY sources and its config' },
];

/** How a command is adapted to the test's daemon and directory, each with why. */
const SUBSTITUTIONS: readonly { readonly from: RegExp; readonly to: (ctx: Ctx) => string; readonly reason: string }[] = [
  { from: /\blocalhost:8081\b/g, to: (c) => `127.0.0.1:${c.queryPort}`, reason: 'the query port is a free port here, not 8081' },
  { from: /^npx s3-parquet-connector\b/, to: () => 's3-parquet-connector', reason: 'npx would resolve the package from a registry outside the project; the package bin is on PATH' },
  { from: /\[(--[a-z-]+(?: [^\]]+)?)\]/g, to: (_c, ...m: string[]) => m[0]!, reason: 'an optional argument shown in brackets is passed' },
  { from: /\beyJ2Ijo[A-Za-z0-9_-]*…/g, to: (c) => c.cursor, reason: 'a cursor shortened with "…" is a real one from the changes feed' },
  { from: /^curl /, to: () => 'curl -sS --fail ', reason: 'curl exits 22 on a 4xx/5xx answer, so exit 0 means a 2xx' },
  { from: / \| spark-sql -f \/dev\/stdin$/, to: () => '', reason: 'Spark is not installed: the Spark DDL is produced, not executed' },
];

/** Where a command runs, when not in the working directory of the local lake, and why. */
const DIRECTORIES: readonly { readonly match: RegExp; readonly dir: 's3'; readonly reason: string }[] = [
  {
    match: /--engine athena\b/,
    dir: 's3',
    reason: 'Athena reads S3 only: run where s3-parquet.toml sets [s3] bucket (the DDL names the location; nothing is sent to S3)',
  },
];

interface Ctx {
  queryPort: number;
  cursor: string;
}

function adapt(text: string, ctx: Ctx): string {
  let out = text;
  for (const s of SUBSTITUTIONS) out = out.replace(s.from, (...args: unknown[]) => (s.to as (c: Ctx, ...m: string[]) => string)(ctx, ...(args.slice(1, -2) as string[])));
  return out;
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  return new Promise((done) => {
    execFile('sh', ['-c', command], { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; killed?: boolean }) | null;
      done({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr, killed: e?.killed === true });
    });
  });
}

/**
 * A command that runs until stopped (`tail --follow`): passes once its output has `expected`
 * and it is still running; stopped then (or at the deadline).
 */
function runFollow(command: string, cwd: string, env: NodeJS.ProcessEnv, expected: string, deadlineMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((done) => {
    const child = spawn('sh', ['-c', `exec ${command}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let exited = false;
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      if (!exited) child.kill('SIGTERM');
      done({ ok, output });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    const onData = (b: Buffer): void => {
      output += b.toString('utf8');
      if (output.includes(expected) && !exited) finish(true);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
    child.once('exit', () => {
      exited = true;
      finish(false);
    });
  });
}

/** A `duckdb` CLI for `[DB] -c SQL` and `-cmd SQL`, over @duckdb/node-api (the CLI is not installed). */
function duckdbShim(): string {
  const api = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('@duckdb/node-api')).href;
  return `#!/usr/bin/env node
const { DuckDBInstance } = await import(${JSON.stringify(api)});
const args = process.argv.slice(2);
let db = ':memory:';
const sql = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '-c' || args[i] === '-cmd') sql.push(args[++i]);
  else db = args[i];
}
const instance = await DuckDBInstance.create(db);
const conn = await instance.connect();
for (const text of sql) {
  const statements = await conn.extractStatements(text);
  for (let k = 0; k < statements.count; k++) {
    const reader = await (await statements.prepare(k)).runAndReadAll();
    for (const row of reader.getRowObjectsJson()) console.log(JSON.stringify(row));
  }
}
conn.closeSync();
instance.closeSync();
`;
}

describe('every command in README.md and docs/*.md runs', () => {
  let work: string;
  let s3Work: string;
  let daemon: Daemon;
  let env: NodeJS.ProcessEnv;
  const ctx: Ctx = { queryPort: 0, cursor: '' };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3pq-docs-'));
    const bin = join(work, '.bin');
    await mkdir(bin);
    await writeFile(join(bin, 's3-parquet-connector'), `#!/bin/sh\nexec node ${JSON.stringify(join(ROOT, 'dist/cli.js'))} "$@"\n`);
    await writeFile(join(bin, 'duckdb'), duckdbShim());
    await chmod(join(bin, 's3-parquet-connector'), 0o755);
    await chmod(join(bin, 'duckdb'), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    // The docs' HTTP examples use curl: without it this test cannot do its job, and says so.
    const curl = await run('command -v curl', work, env, 10_000);
    if (curl.code !== 0) throw new Error('test/e2e/docs-commands.test.ts needs curl on PATH: the commands in the docs use it');
    // The same lake for the daemon and the CLI commands (./s3-parquet.toml, ./data).
    const shared = `[storage]\nlocal_path = ${JSON.stringify(join(work, 'data'))}\ninstance_id = "docs"\n[partitioning]\nmax_past_hours = 0\n`;
    await writeFile(join(work, 's3-parquet.toml'), shared);
    s3Work = join(work, 's3');
    await mkdir(s3Work);
    await writeFile(join(s3Work, 's3-parquet.toml'), '[s3]\nbucket = "telemetry-lake"\nprefix = "otel"\nregion = "eu-west-1"\n');
    daemon = await startDaemon(
      parseConfigText(`[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\n[wal]\ndir = ${JSON.stringify(join(work, 'wal'))}\n${shared}`),
      { logger: createLogger('warn') },
    );
    ctx.queryPort = daemon.ports.query!;
    // What the docs' examples look for: checkout errors on 2024-01-01 at 00:xx and 13:xx (the
    // trace docs/query.md fetches), and a severity-17 log record.
    const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
    const spans = ['2024-01-01T00:05:12Z', '2024-01-01T13:05:12Z'].map((t) => ({
      ...jsonSpan({ traceId: TRACE_ID, startNs: at(t), name: 'GET /cart' }),
      endTimeUnixNano: String(at(t) + 900_000_000n),
      status: { code: 2, message: 'boom' },
    }));
    const post = async (path: string, body: unknown): Promise<void> => {
      const res = await fetch(`http://127.0.0.1:${daemon.ports.http}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
    };
    await post('/v1/traces', jsonTraceRequest(spans, 'checkout'));
    await post('/v1/logs', {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: String(at('2024-01-01T00:05:00Z')), severityNumber: 17, severityText: 'ERROR', body: { stringValue: 'disk full' } }] }],
      }],
    });
    await daemon.pipeline.flush();
    const changes = await fetch(`http://127.0.0.1:${ctx.queryPort}/api/v1/changes?dataset=logs`);
    await changes.text();
    ctx.cursor = changes.headers.get('x-next-cursor') ?? '';
    expect(ctx.cursor).not.toBe('');
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('splits a block into commands: quotes and backslashes continue a command, # starts a comment', () => {
    const block = [
      '# a comment line',
      "curl -XPOST localhost:8081/api/v1/query -d '{",
      `  "dataset": "traces", "filter": "status = '\\''ERROR'\\''" }'   # trailing comment`,
      'docker run -d \\',
      '  -p 1:1 image',
      'echo "one # two" \\# three',
    ].join('\n');
    expect(splitCommands(block)).toEqual([
      `curl -XPOST localhost:8081/api/v1/query -d '{\n  "dataset": "traces", "filter": "status = '\\''ERROR'\\''" }'`,
      'docker run -d    -p 1:1 image',
      'echo "one # two" \\# three',
    ]);
  });

  it('extracts the commands, and the allowlist stays small', async () => {
    const commands = await docCommands();
    expect(commands.length).toBeGreaterThan(20);
    const allowed = commands.filter((c) => ALLOWLIST.some((a) => a.match.test(c.text)));
    console.log(`docs commands: ${commands.length}, allowlisted ${allowed.length}:\n${allowed.map((c) => `  ${c.file}: ${c.text}`).join('\n')}`);
    expect(allowed.length).toBeLessThanOrEqual(6);
    // Every allowlist entry still matches something: a stale entry is removed, not kept.
    for (const a of ALLOWLIST) expect(commands.some((c) => a.match.test(c.text)), String(a.match)).toBe(true);
  });

  it('runs every other command against the daemon: exit 0', async () => {
    const failures: string[] = [];
    let ran = 0;
    for (const c of await docCommands()) {
      if (ALLOWLIST.some((a) => a.match.test(c.text))) continue;
      const command = adapt(c.text, ctx);
      const cwd = DIRECTORIES.find((d) => d.match.test(command))?.dir === 's3' ? s3Work : work;
      ran++;
      if (/\s--follow\b/.test(command)) {
        // Runs until stopped: it must print the stored record and still be running.
        const r = await runFollow(command, cwd, env, 'disk full', 60_000);
        if (!r.ok) failures.push(`${c.file}: ${c.text}\n  ran: ${command}\n  did not print the record while running\n  ${r.output.trim().slice(0, 600)}`);
        continue;
      }
      const r = await run(command, cwd, env, 60_000);
      if (r.code !== 0) failures.push(`${c.file}: ${c.text}\n  ran: ${command}\n  exit ${r.code}${r.killed ? ' (timed out)' : ''}\n  ${(r.stderr || r.stdout).trim().slice(0, 600)}`);
    }
    expect(ran).toBeGreaterThan(20);
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 600_000);
});
