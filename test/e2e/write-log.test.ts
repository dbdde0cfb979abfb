/**
 * The write log end to end (issue #10): two daemons on one store — one with its clock 20 s
 * behind — and a consumer of GET /api/v1/changes that gets every record exactly once; queries
 * that find files in the log instead of listing; a damaged entry or a failed append that never
 * hides data; `log rebuild`; and `tail --follow` printing records written after it started.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryKeyTime } from '../../src/log/index.js';
import { QueryEngine, emptyStats } from '../../src/query/engine.js';
import { LocalStore } from '../../src/store/local.js';
import { promotedSpecs } from '../../src/schema/datasets.js';
import { CLI, runCli } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { T0_NS } from '../helpers/otlp.js';
import { waitFor } from '../helpers/wait.js';

const SKEW_MS = 20_000;

/** An OTLP/JSON logs request whose records have bodies `tag-0` … `tag-(n-1)`. */
function logsRequest(tag: string, n: number): string {
  const logRecords = Array.from({ length: n }, (_, i) => ({
    timeUnixNano: (T0_NS + BigInt(i) * 1_000_000n).toString(),
    severityNumber: 9,
    body: { stringValue: `${tag}-${i}` },
  }));
  return JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'wlog' } }] }, scopeLogs: [{ logRecords }] }] });
}

async function ingest(d: TestDaemon, tag: string, n: number): Promise<void> {
  const res = await fetch(d.httpUrl('/v1/logs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: logsRequest(tag, n) });
  expect(res.status).toBe(200);
  await d.pipeline.flush();
}

async function changes(d: TestDaemon, cursor?: string, extra = ''): Promise<{ bodies: string[]; cursor: string }> {
  const res = await fetch(d.queryUrl(`/api/v1/changes?dataset=logs${cursor ? `&cursor=${cursor}` : ''}${extra}`));
  expect(res.status).toBe(200);
  const next = res.headers.get('x-next-cursor');
  expect(next).toMatch(/^[A-Za-z0-9_-]+$/);
  const text = await res.text();
  const bodies = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { body: string }).body);
  return { bodies, cursor: next! };
}

async function query(d: TestDaemon): Promise<{ bodies: string[]; stats: Record<string, number> }> {
  const res = await fetch(d.queryUrl('/api/v1/query'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'logs', select: ['body'] }) });
  expect(res.status).toBe(200);
  const json = (await res.json()) as { records: { body: string }[]; stats: Record<string, number> };
  return { bodies: json.records.map((r) => r.body).sort(), stats: json.stats };
}

async function listRequestsSoFar(d: TestDaemon): Promise<number> {
  const text = await (await fetch(d.telemetryUrl('/metrics'))).text();
  const m = /s3parquet_store_requests_total\{operation="listObjects",outcome="success"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

function freshEngine(data: string, d: TestDaemon, useLog = true): QueryEngine {
  return new QueryEngine({ store: new LocalStore(data), layout: { granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false }, promoted: promotedSpecs(d.config), useLogForQueries: useLog });
}

const range = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

describe('write log', () => {
  let a: TestDaemon;
  let b: TestDaemon;
  let walB: string;
  let data: string;
  let configFile: string;

  beforeAll(async () => {
    a = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    data = join(a.dir, 'data');
    walB = await mkdtemp(join(tmpdir(), 's3pq-walb-'));
    // The second instance writes into the same store, its clock 20 s behind (settle window 30 s).
    b = await startTestDaemon(`[storage]\nlocal_path = ${JSON.stringify(data)}\n[wal]\ndir = ${JSON.stringify(walB)}\n[buffer]\nmax_age_seconds = 3600`, { now: () => Date.now() - SKEW_MS });
    configFile = join(a.dir, 'cli.toml');
    await writeFile(configFile, `[storage]\nlocal_path = ${JSON.stringify(data)}\n`);
  });
  afterAll(async () => {
    await b?.cleanup();
    await a?.cleanup();
    await rm(walB, { recursive: true, force: true });
  });

  it('a consumer gets every record exactly once across two writers, one with its clock behind', async () => {
    await ingest(a, 'first', 5);
    const r1 = await changes(a);
    expect(r1.bodies.sort()).toEqual(range('first', 5).sort());
    const firstReadAt = Date.now();

    await ingest(b, 'late', 4); // named 20 s before now: before the consumer's last read
    await ingest(a, 'second', 3);
    const names = await readdir(join(data, '_log', 'logs'));
    const lateEntry = names.find((n) => n.includes(b.instanceId))!;
    expect(entryKeyTime(lateEntry)!).toBeLessThan(firstReadAt);

    const r2 = await changes(a, r1.cursor);
    expect(r2.bodies.sort()).toEqual([...range('late', 4), ...range('second', 3)].sort());
    const r3 = await changes(a, r2.cursor);
    expect(r3.bodies).toEqual([]);

    // The same through the engine method the library wraps, with a filter and a select.
    const c = await a.queryEngine.changes({ dataset: 'logs', cursor: r1.cursor, filter: "body LIKE 'late-%'", select: ['body'] });
    const recs: unknown[] = [];
    for await (const r of c.records()) recs.push(r);
    expect(recs).toHaveLength(4);
    expect(c.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('a query finds files in the log instead of listing partitions (stats say so)', async () => {
    const before = await listRequestsSoFar(a);
    const viaLog = await query(a);
    const lists = (await listRequestsSoFar(a)) - before;
    const files = (await readdir(data, { recursive: true })).filter((p) => p.endsWith('.parquet')).length;
    expect(viaLog.stats.files_from_log).toBe(files);
    expect(viaLog.stats.list_requests).toBe(1); // the log's own listing
    expect(viaLog.stats.list_requests_avoided).toBeGreaterThanOrEqual(1);
    expect(lists).toBe(1); // one directory read: _log/logs, no partition directory walked
    // The same records as a listing finds.
    const engine = freshEngine(data, a, false);
    const stats = emptyStats();
    const listed: string[] = [];
    for await (const r of engine.query({ dataset: 'logs', select: ['body'] }, stats)) listed.push(String(r.body));
    expect(stats.files_from_log).toBe(0);
    expect(stats.list_requests).toBeGreaterThanOrEqual(1);
    expect(viaLog.bodies).toEqual(listed.sort());
  });

  it('answers precise 400s for a bad cursor, dataset or parameter', async () => {
    const bad = async (qs: string): Promise<string> => {
      const res = await fetch(a.queryUrl(`/api/v1/changes?${qs}`));
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: { message: string } }).error.message;
    };
    expect(await bad('dataset=logs&cursor=%21%21')).toMatch(/invalid cursor/);
    const { cursor } = await changes(a);
    expect(await bad(`dataset=traces&cursor=${cursor}`)).toMatch(/belongs to dataset "logs"/);
    expect(await bad('')).toMatch(/"dataset" is required/);
    expect(await bad('dataset=nope')).toMatch(/unknown dataset "nope"/);
    expect(await bad('dataset=logs&select=nope')).toMatch(/unknown column "nope"/);
    expect(await bad('dataset=logs&max_entries=0')).toMatch(/max_entries/);
    expect(await bad('dataset=logs&since=1')).toMatch(/unknown parameter "since"/);
    expect((await fetch(a.queryUrl('/api/v1/changes?dataset=logs'), { method: 'POST' })).status).toBe(405);
  });

  it('a damaged entry never hides data, and log rebuild makes the log usable again', async () => {
    const all = (await query(a)).bodies;
    const names = (await readdir(join(data, '_log', 'logs'))).sort();
    await writeFile(join(data, '_log', 'logs', names[0]!), '{"v":1,"files":[');
    // The daemon read that entry before (entries are immutable, so it keeps what it parsed); a
    // fresh reader — the CLI, another instance — finds it damaged and lists partitions instead.
    expect((await query(a)).bodies).toEqual(all);
    const fresh = freshEngine(data, a);
    const stats = emptyStats();
    const listed: string[] = [];
    for await (const r of fresh.query({ dataset: 'logs', select: ['body'] }, stats)) listed.push(String(r.body));
    expect(listed.sort()).toEqual(all);
    expect(stats.files_from_log).toBe(0);

    const r = await runCli(['log', 'rebuild', '--dataset', 'logs', '--config', configFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^logs: \d+ files; 1 were not in the log \(1 entries written\); 1 damaged entries removed/);
    const rebuilt = await query(a);
    expect(rebuilt.bodies).toEqual(all);
    expect(rebuilt.stats.files_from_log).toBeGreaterThan(0);
  });

  it('a file whose log append failed is still found, and its entry lands once the store takes it', async () => {
    // Make `_log/logs` unwritable for the local store: a plain file where its directory was.
    const logDir = join(data, '_log', 'logs');
    const saved = join(a.dir, 'saved-log');
    await mkdir(saved);
    for (const n of await readdir(logDir)) await writeFile(join(saved, n), '');
    await rm(logDir, { recursive: true });
    await writeFile(logDir, 'not a directory');
    await ingest(a, 'unlogged', 2);
    expect(a.logs.some((l) => /write log append failed/.test(String(l.msg)))).toBe(true);
    expect(a.writeLog.pendingEntries).toBe(1);
    // The writer drops the dataset's checkpoint (in the background, not delaying the flush).
    await waitFor(async () => !(await stat(join(data, '_log', 'logs.checkpoint.json')).catch(() => null)), 10_000, 'the checkpoint to be dropped');
    const q = await query(a);
    expect(q.bodies).toEqual(expect.arrayContaining(range('unlogged', 2)));
    expect(q.stats.files_from_log).toBe(0); // the checkpoint was dropped: listed
    const metrics = await (await fetch(a.telemetryUrl('/metrics'))).text();
    expect(metrics).toMatch(/s3parquet_write_log_append_failures_total\{dataset="logs"\} [1-9]/);
    // Repaired: the next flush retries the kept entry first; rebuild restores the checkpoint.
    await rm(logDir);
    await ingest(a, 'after', 1);
    expect(a.writeLog.pendingEntries).toBe(0);
    expect((await runCli(['log', 'rebuild', '--dataset', 'logs', '--config', configFile])).code).toBe(0);
    const healed = await query(a);
    expect(healed.stats.files_from_log).toBeGreaterThan(0);
    expect(healed.bodies).toEqual(expect.arrayContaining([...range('unlogged', 2), 'after-0']));
  });

  it('tail --follow prints records written after it started', async () => {
    const child = spawn(process.execPath, [CLI, 'tail', '--dataset', 'logs', '--follow', '--interval-ms', '200', '--select', 'body', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit');
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    createInterface({ input: child.stdout }).on('line', (l) => lines.push((JSON.parse(l) as { body: string }).body));
    try {
      // It starts from the beginning of the log: wait until what is there has been printed.
      await waitFor(() => lines.includes('first-0') && lines.includes('after-0'), 20_000, 'the existing records');
      await ingest(b, 'tailed', 3); // b's clock is behind: still printed
      await ingest(a, 'tailed-a', 2);
      await waitFor(() => ['tailed-0', 'tailed-1', 'tailed-2', 'tailed-a-0', 'tailed-a-1'].every((x) => lines.includes(x)), 20_000, 'the new records');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toMatch(/next cursor: [A-Za-z0-9_-]+/);
    expect(lines.filter((l) => l.startsWith('tailed'))).toHaveLength(5);
    expect(new Set(lines).size).toBe(lines.length); // nothing printed twice

    // Without --follow: everything, then the cursor to resume from; resuming prints nothing new.
    const once_ = await runCli(['tail', '--dataset', 'logs', '--select', 'body', '--config', configFile]);
    expect(once_.code).toBe(0);
    expect(once_.stdout.trim().split('\n').sort()).toEqual(lines.map((l) => JSON.stringify({ body: l })).sort());
    const cursor = /next cursor: ([A-Za-z0-9_-]+)/.exec(once_.stderr)![1]!;
    const resumed = await runCli(['tail', '--dataset', 'logs', '--cursor', cursor, '--config', configFile]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe('');
    const bad = await runCli(['tail', '--dataset', 'logs', '--cursor', 'nope!', '--config', configFile]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error: invalid cursor/);
    expect((await runCli(['log', '--config', configFile])).stderr).toMatch(/log needs an action/);
  });
});
