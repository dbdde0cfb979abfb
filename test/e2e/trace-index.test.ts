/**
 * The trace index (issue 14): lookups with no time range answer exactly what DuckDB answers over
 * the same files — 100 random ids, present and absent, on a one-partition lake of ~100k spans and
 * on a lake of 500 small files in 48 hourly partitions — while opening only candidate files.
 * The index survives a restart, comes back with `log rebuild`, and a damaged or missing index
 * entry never hides data (the lookup opens footers instead, and its stats say so).
 */
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng, traceRequests } from '../../bench/load/traces.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { ONE_PARTITION, SMALL_FILES, writeLake, type LakeShape } from '../helpers/lake.js';

type Stats = Record<string, number>;

interface Lookup {
  readonly status: number;
  readonly spans: string[];
  readonly stats: Stats;
}

async function lookup(d: TestDaemon, id: string, query = ''): Promise<Lookup> {
  const res = await fetch(d.queryUrl(`/api/v1/traces/${id}${query}`));
  const body = (await res.json()) as { spans?: { span_id: string; name: string; start_time: string }[]; stats?: Stats };
  const spans = (body.spans ?? []).map((s) => `${s.span_id} ${s.name} ${s.start_time}`).sort();
  return { status: res.status, spans, stats: body.stats ?? {} };
}

/** DuckDB's answer for each id: its spans as `span_id name start_time`, sorted. */
async function duckdbAnswers(data: string, ids: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await duckdbQuery(
    `SELECT trace_id, span_id, name, strftime(start_time, '%Y-%m-%dT%H:%M:%S.%n') AS t FROM ${datasetGlob(data, 'traces')} WHERE trace_id IN (${ids.map((i) => `'${i}'`).join(', ')})`,
  );
  const out = new Map<string, string[]>(ids.map((i) => [i, []]));
  for (const r of rows) out.get(String(r.trace_id))!.push(`${String(r.span_id)} ${String(r.name)} ${String(r.t)}Z`);
  for (const list of out.values()) list.sort();
  return out;
}

/** 50 ids the lake holds and 50 it does not, chosen by a seeded generator. */
async function sampleIds(data: string, seed: number): Promise<string[]> {
  const all = (await duckdbQuery(`SELECT DISTINCT trace_id FROM ${datasetGlob(data, 'traces')} ORDER BY trace_id`)).map((r) => String(r.trace_id));
  const r = rng(seed);
  const present = Array.from({ length: 50 }, () => all[Math.floor(r() * all.length)]!);
  const absent = Array.from({ length: 50 }, () => Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join(''));
  return [...present, ...absent];
}

async function parquetFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.parquet') && !e.parentPath.includes('.wal')) n++;
  return n;
}

async function lakeDaemon(data: string, extra = ''): Promise<TestDaemon> {
  return startTestDaemon(`[storage]\nlocal_path = ${JSON.stringify(data)}\n[wal]\ndir = ${JSON.stringify(join(data, '..', 'wal-reader'))}\n${extra}`);
}

describe.each([
  ['one partition of ~100k spans', ONE_PARTITION],
  ['500 small files in 48 hourly partitions', SMALL_FILES],
] as [string, LakeShape][])('trace index over %s', (_name, shape) => {
  let root: string;
  let data: string;
  let d: TestDaemon;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 's3pq-lake-'));
    data = join(root, 'data');
    await writeLake(data, shape);
    d = await lakeDaemon(data);
  }, 600_000);
  afterAll(async () => {
    await d?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('answers 100 random ids (50 present, 50 absent) exactly as DuckDB, opening only candidate files', async () => {
    const files = await parquetFiles(data);
    expect(files).toBeGreaterThanOrEqual(shape.files);
    const ids = await sampleIds(data, shape.seed);
    const expected = await duckdbAnswers(data, ids);
    let present = 0;
    let opened = 0;
    for (const id of ids) {
      const got = await lookup(d, id);
      const want = expected.get(id)!;
      if (want.length === 0) {
        expect(got.status, id).toBe(404);
        continue;
      }
      present++;
      expect(got.status, id).toBe(200);
      expect(got.spans, id).toEqual(want);
      expect(got.stats.files_considered).toBe(files);
      expect(got.stats.files_unindexed).toBe(0);
      opened += files - got.stats.files_pruned_by_index!;
    }
    expect(present).toBe(50);
    // Every present id sits in one file (a flush's spans of a trace share its file), plus the
    // rare false positive of a bloom filter (~0.05 % a file).
    expect(opened / present).toBeLessThan(1.5);
  }, 600_000);
});

describe('trace index: restarts, log rebuild, damaged entries', () => {
  const shape: LakeShape = { files: 30, partitions: 6, spansPerFile: 64, seed: 11 };
  let root: string;
  let data: string;
  let d: TestDaemon | undefined;
  let ids: string[];
  let expected: Map<string, string[]>;
  let files: number;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 's3pq-lake-'));
    data = join(root, 'data');
    await writeLake(data, shape);
    files = await parquetFiles(data);
    const sample = await sampleIds(data, 5);
    ids = [...sample.slice(0, 6), ...sample.slice(50, 54)]; // present, then absent
    expected = await duckdbAnswers(data, ids);
  }, 600_000);
  afterAll(async () => {
    await d?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function expectAnswers(check: (s: Stats) => void): Promise<void> {
    for (const id of ids) {
      const got = await lookup(d!, id);
      expect(got.spans, id).toEqual(expected.get(id));
      if (expected.get(id)!.length === 0) expect(got.status, id).toBe(404);
      else check(got.stats);
    }
  }

  it('survives a restart: a new daemon on the store prunes by the index from its first lookup', async () => {
    d = await lakeDaemon(data);
    await expectAnswers((s) => {
      expect(s.files_unindexed).toBe(0);
      expect(s.files_pruned_by_index).toBeGreaterThanOrEqual(files - 2);
    });
    await d.cleanup();
    d = await lakeDaemon(data);
    await expectAnswers((s) => expect(s.files_pruned_by_index).toBeGreaterThanOrEqual(files - 2));
    await d.cleanup();
    d = undefined;
  });

  it('an entry whose index is damaged only makes its file unindexed: opened, found, counted', async () => {
    const dir = join(data, '_log', 'traces');
    const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    expect(names.length).toBe(files);
    const target = join(dir, names[0]!);
    const entry = JSON.parse(await readFile(target, 'utf8')) as { files: { index: { bloom: string } }[] };
    expect(entry.files[0]!.index.bloom).toMatch(/^v1:11:\d+:/);
    entry.files[0]!.index.bloom = 'v1:11:64:not-base64!';
    await writeFile(target, JSON.stringify(entry));
    d = await lakeDaemon(data);
    await expectAnswers((s) => {
      expect(s.files_unindexed).toBe(1);
      expect(s.files_pruned_by_index).toBeGreaterThanOrEqual(files - 3);
    });
    await d.cleanup();
    d = undefined;
  });

  it('a damaged or missing entry makes lookups open footers (stats say so); log rebuild brings the index back', async () => {
    const dir = join(data, '_log', 'traces');
    const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    await writeFile(join(dir, names[1]!), '{"v":1,"files":[');
    await unlink(join(dir, names[2]!));
    d = await lakeDaemon(data, '[write_log]\ncompact_after_entries = 0');
    // The damaged entry makes the log untrustworthy: the files come from a listing, unindexed.
    await expectAnswers((s) => {
      expect(s.files_from_log).toBe(0);
      expect(s.files_unindexed).toBe(files);
      expect(s.files_pruned_by_index).toBe(0);
    });
    await d.cleanup();
    d = undefined;

    const configFile = join(root, 'cli.toml');
    await writeFile(configFile, `[storage]\nlocal_path = ${JSON.stringify(data)}\n`);
    const r = await runCli(['log', 'rebuild', '--dataset', 'traces', '--config', configFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 damaged entries removed/);

    d = await lakeDaemon(data);
    await expectAnswers((s) => {
      expect(s.files_from_log).toBe(files);
      expect(s.files_unindexed).toBe(0); // rebuilt from the files themselves, also the one whose index was damaged
      expect(s.files_pruned_by_index).toBeGreaterThanOrEqual(files - 2);
    });
  });

  it('start and end narrow a lookup further; absent ids are 404 on every path', async () => {
    d ??= await lakeDaemon(data);
    const present = ids.find((id) => (expected.get(id) ?? []).length > 0)!;
    const t = expected.get(present)![0]!.split(' ').pop()!;
    const hour = t.slice(0, 13);
    const narrowed = await lookup(d, present, `?start=${hour}:00:00Z&end=${hour}:59:59.999999999Z`);
    expect(narrowed.spans).toEqual(expected.get(present));
    expect(narrowed.stats.partitions_pruned).toBe(shape.partitions - 1);
    expect(narrowed.stats.files_considered).toBeLessThan(files);
    const absent = ids.find((id) => (expected.get(id) ?? []).length === 0)!;
    expect((await lookup(d, absent)).status).toBe(404);
  });
});

describe('trace index: lookups while files are being added', () => {
  const shape: LakeShape = { files: 12, partitions: 3, spansPerFile: 64, seed: 23 };
  let root: string;
  let data: string;
  let d: TestDaemon | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 's3pq-lake-'));
    data = join(root, 'data');
    await writeLake(data, shape);
  }, 600_000);
  afterAll(async () => {
    await d?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("answers stay DuckDB's while a daemon adds files, and the added traces are found once written", async () => {
    const sample = await sampleIds(data, 29);
    const ids = [...sample.slice(0, 5), ...sample.slice(50, 55)]; // present, then absent
    const expected = await duckdbAnswers(data, ids);
    const old = new Set((await duckdbQuery(`SELECT DISTINCT trace_id FROM ${datasetGlob(data, 'traces')}`)).map((r) => String(r.trace_id)));
    const filesBefore = await parquetFiles(data);
    const daemon = (d = await lakeDaemon(data));
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 6; i++) {
        const [body] = traceRequests(9_000 + i, 1, 64);
        const res = await fetch(daemon.httpUrl('/v1/traces'), { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        await daemon.pipeline.flush(); // one new file each
      }
    })().finally(() => {
      writing = false;
    });
    let rounds = 0;
    do {
      for (const id of ids) {
        const got = await lookup(daemon, id);
        expect(got.spans, id).toEqual(expected.get(id));
        if (expected.get(id)!.length === 0) expect(got.status, id).toBe(404);
      }
      rounds++;
    } while (writing);
    await writer;
    expect(rounds).toBeGreaterThan(0);
    expect(await parquetFiles(data)).toBe(filesBefore + 6);
    // The added traces: what DuckDB finds in the files now, the lookup finds too (the write log
    // shows a new file once its entry is written: poll, with a deadline).
    const added = (await duckdbQuery(`SELECT DISTINCT trace_id FROM ${datasetGlob(data, 'traces')} ORDER BY trace_id`)).map((r) => String(r.trace_id)).filter((t) => !old.has(t));
    expect(added.length).toBeGreaterThan(0);
    const fresh = added.slice(0, 5);
    const want = await duckdbAnswers(data, fresh);
    for (const id of fresh) {
      expect(want.get(id)!.length).toBeGreaterThan(0);
      await waitFor(async () => JSON.stringify((await lookup(daemon, id)).spans) === JSON.stringify(want.get(id)), 60_000, `lookup of added trace ${id}`);
    }
  }, 600_000);
});
