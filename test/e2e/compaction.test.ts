/**
 * Compaction on the local store: the `compact` CLI merges closed partitions' small files, the
 * swap is one write-log entry, queries, the changes feed and DuckDB see every span once.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { QueryEngine } from '../../src/query/engine.js';
import { LocalStore } from '../../src/store/local.js';
import { WriteLog } from '../../src/log/write-log.js';
import { S3Config, S3ParquetConnector } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { writeLake, type LakeShape } from '../helpers/lake.js';

const SHAPE: LakeShape = { files: 24, partitions: 4, spansPerFile: 100, seed: 3 };

async function parquetFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile() && e.name.endsWith('.parquet')) out.push(join(e.parentPath, e.name));
  return out;
}

async function countSpans(data: string, log: WriteLog, store: LocalStore): Promise<{ rows: number; distinct: number }> {
  const engine = new QueryEngine({ store, layout: { granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false }, promoted: { traces: [], logs: [], metrics: [] }, writeLog: log });
  const ids = new Set<string>();
  let rows = 0;
  for await (const r of engine.query({ dataset: 'traces', select: ['span_id'] })) {
    rows++;
    ids.add(String(r.span_id));
  }
  void data;
  return { rows, distinct: ids.size };
}

async function changesFromBeginning(log: WriteLog): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const c = await log.changes('traces', cursor, { maxEntries: 5 });
    keys.push(...c.files.map((f) => f.key));
    cursor = c.nextCursor;
    if (!c.more) return keys;
  }
}

describe('compaction (local store, CLI)', () => {
  let dir: string;
  let data: string;
  let configPath: string;
  let spans: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-compact-'));
    data = join(dir, 'data');
    spans = await writeLake(data, SHAPE);
    configPath = join(dir, 'c.toml');
    await writeFile(configPath, `[storage]\nlocal_path = ${JSON.stringify(data)}\n[compaction]\ndelete_grace_seconds = 0\n[write_log]\nsettle_window_seconds = 1\n`);
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--dry-run reports and changes nothing', async () => {
    const before = await parquetFiles(data);
    const r = await runCli(['compact', '--config', configPath, '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/traces\/date=2024-01-01\/hour=00: 6 files → 1, 600 rows/);
    expect(await parquetFiles(data)).toEqual(before);
  });

  it('merges every partition into one file; readers see every span once', async () => {
    expect((await parquetFiles(data)).length).toBe(SHAPE.files);
    const store = new LocalStore(data);
    const reader = new WriteLog({ store, instanceId: 'reader', settleWindowMs: 1000 });
    // A consumer that read everything before the compaction.
    const before = await changesFromBeginning(reader);
    expect(before.length).toBe(SHAPE.files);
    const caughtUp = (await reader.changes('traces')).nextCursor;

    const r = await runCli(['compact', '--config', configPath, '--dataset', 'traces']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/: 6 files → 1, 600 rows/g)?.length).toBe(4);

    const files = await parquetFiles(data);
    expect(files.length).toBe(SHAPE.partitions); // grace 0: the inputs are gone
    expect(await countSpans(data, reader, store)).toEqual({ rows: spans, distinct: spans });
    const duck = await duckdbQuery(`select count(*) as n, count(distinct span_id) as d from ${datasetGlob(data, 'traces')}`);
    expect(duck).toEqual([{ n: String(spans), d: String(spans) }]);

    // The caught-up consumer gets no moved rows; a new one from the beginning gets each span once.
    const after = await reader.changes('traces', caughtUp);
    expect(after.files).toEqual([]);
    expect(after.removed.length).toBe(SHAPE.files);
    const fresh = new WriteLog({ store, instanceId: 'fresh', settleWindowMs: 1000 });
    const all = await changesFromBeginning(fresh);
    expect(all.sort()).toEqual(files.map((f) => f.slice(data.length + 1)).sort());
    await store.close();
  }, 120_000);

  it('a second run finds nothing to do', async () => {
    const r = await runCli(['compact', '--config', configPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing to compact');
  });

  it('refuses an unknown dataset with a clear message', async () => {
    const r = await runCli(['compact', '--config', configPath, '--dataset', 'spans']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown dataset "spans"/);
  });
});

describe('compaction during the delete grace (local store)', () => {
  let dir: string;
  let data: string;
  let spans: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-compact-grace-'));
    data = join(dir, 'data');
    spans = await writeLake(data, { files: 8, partitions: 2, spansPerFile: 50, seed: 5 });
    const configPath = join(dir, 'c.toml');
    await writeFile(configPath, `[storage]\nlocal_path = ${JSON.stringify(data)}\n[compaction]\ndelete_grace_seconds = 3600\n[write_log]\nsettle_window_seconds = 1\n`);
    const r = await runCli(['compact', '--config', configPath, '--dataset', 'traces']);
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the inputs are still listed beside their merge, and the library reads each span once', async () => {
    // 8 inputs kept for the grace + 2 merged files: a plain listing holds every span twice.
    expect((await parquetFiles(data)).length).toBe(10);
    const duck = await duckdbQuery(`select count(*) as n from ${datasetGlob(data, 'traces')}`);
    expect(duck).toEqual([{ n: String(spans * 2) }]);

    const connector = new S3ParquetConnector(S3Config.local(data));
    try {
      const { records } = await connector.read({ partitionPath: 'traces', selectFields: ['span_id'] });
      expect(records.length).toBe(spans);
      expect(new Set(records.map((r) => String(r.span_id))).size).toBe(spans);
      const one = await connector.read({ partitionPath: 'traces/date=2024-01-01/hour=00', selectFields: ['span_id'] });
      expect(one.records.length).toBeGreaterThan(0);
      expect(one.records.length).toBeLessThan(spans);
    } finally {
      await connector.close();
    }
  });

  it('the query engine reading by listing (no log) skips the replaced files too', async () => {
    const store = new LocalStore(data);
    const engine = new QueryEngine({ store, useLogForQueries: false, layout: { granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false }, promoted: { traces: [], logs: [], metrics: [] } });
    const ids = new Set<string>();
    let rows = 0;
    for await (const r of engine.query({ dataset: 'traces', select: ['span_id'] })) {
      rows++;
      ids.add(String(r.span_id));
    }
    expect({ rows, distinct: ids.size }).toEqual({ rows: spans, distinct: spans });
    await store.close();
  });
});
