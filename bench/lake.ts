/**
 * Trace lookups at lake scale (issue 14): our query port against DuckDB over the same files, for
 * a one-partition lake of ~100k spans and a lake of 500 small files in 48 hourly partitions,
 * with the store local and on radosgw (DuckDB reads the local copy: its S3 extension is not
 * available offline). Lookups have no time range. Reported per lookup: bytes read and read
 * requests (ranged GETs of Parquet files) and LIST requests, from the query's own stats.
 *
 *   npx tsx bench/lake.ts [runs=3]      (needs `npm run build`: the daemon runs from dist/)
 */
import { best } from './harness/best.js';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseConfigText } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { openStore } from '../src/store/index.js';
import { startBenchDaemon } from './harness/daemon.js';
import { rng } from './load/traces.js';
import { ONE_PARTITION, SMALL_FILES, writeLake, type LakeShape } from '../test/helpers/lake.js';
import { startS3Server, type S3Server } from '../test/helpers/s3-server.js';
import { filterCases } from './harness/filter-cases.js';
import { Compactor } from '../src/compaction/compactor.js';
import { WriteLog } from '../src/log/write-log.js';

/** The compaction phase of the small-file lake (local store): files and bytes before and after. */
export interface LakeCompaction {
  readonly filesBefore: number;
  readonly filesAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly partitions: number;
  readonly rows: number;
  /** CPU seconds of this process while compacting (user + system), and wall seconds. */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

let compaction: LakeCompaction | undefined;

/** The compaction phase of the last `benchLakes` run with the small-file lake. */
export function lastLakeCompaction(): LakeCompaction | undefined {
  return compaction;
}

async function parquetStats(dataDir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(join(dataDir, 'traces'), { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.parquet')) continue;
    files++;
    bytes += (await readFile(join(e.parentPath, e.name))).length;
  }
  return { files, bytes };
}

/** Compacts the lake in place with the defaults (no age limit, no grace), timing it. */
async function compactLake(dataDir: string): Promise<LakeCompaction> {
  const before = await parquetStats(dataDir);
  const config = parseConfigText(`[storage]\nlocal_path = ${JSON.stringify(dataDir)}\n[compaction]\nmin_partition_age_seconds = 0\ndelete_grace_seconds = 0\n[partitioning]\nmax_past_hours = 0\n`);
  const store = await openStore(config, createLogger('silent'), 'bench-compact');
  try {
    const writeLog = new WriteLog({ store, instanceId: 'bench-compact', compactAfterEntries: config.write_log.compact_after_entries });
    const cpu = process.cpuUsage();
    const t = performance.now();
    const r = await new Compactor({ store, writeLog, config, instanceId: 'bench-compact' }).runOnce({ datasets: ['traces'] });
    const used = process.cpuUsage(cpu);
    const wallSeconds = +((performance.now() - t) / 1000).toFixed(2);
    if (r.failed.length > 0) throw new Error(`compaction failed: ${r.failed.map((f) => f.error).join('; ')}`);
    const after = await parquetStats(dataDir);
    return {
      filesBefore: before.files, filesAfter: after.files, bytesBefore: before.bytes, bytesAfter: after.bytes, partitions: r.merged.length,
      rows: r.merged.reduce((n, m) => n + m.rows, 0), cpuSeconds: +((used.user + used.system) / 1e6).toFixed(2), wallSeconds,
    };
  } finally {
    await store.close();
  }
}

export interface LakeCase {
  lake: string;
  store: 'local' | 'radosgw';
  query: string;
  rows: number;
  oursMs: number;
  duckdbMs: number;
  ratio: number;
  /** Lookups only: per lookup, from the query's stats. */
  bytesRead?: number;
  readRequests?: number;
  listRequests?: number;
  filesOpened?: number;
}

const LOOKUP_IDS = 5;

async function duck(sql: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const rows = (await conn.runAndReadAll(sql)).getRowObjectsJson().length;
  conn.closeSync();
  db.closeSync();
  return rows;
}


async function lookupIds(glob: string, seed: number): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const all = (await conn.runAndReadAll(`SELECT DISTINCT trace_id FROM ${glob} ORDER BY trace_id`)).getRowObjectsJson().map((r) => String(r.trace_id));
  conn.closeSync();
  db.closeSync();
  const r = rng(seed);
  return Array.from({ length: LOOKUP_IDS }, () => all[Math.floor(r() * all.length)]!);
}

async function copyToStore(dataDir: string, toml: string): Promise<void> {
  const store = await openStore(parseConfigText(toml), createLogger('silent'), 'bench');
  for (const e of await readdir(dataDir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const key = relative(dataDir, path);
    if (key.startsWith('.wal')) continue;
    await store.put(key, new Uint8Array(await readFile(path)));
  }
}

async function measure(lake: string, store: LakeCase['store'], dataDir: string, port: number, runs: number, ids: readonly string[], duckMs: Map<string, { ms: number; rows: number }>): Promise<LakeCase[]> {
  const glob = `read_parquet('${dataDir}/traces/**/*.parquet', hive_partitioning = true, union_by_name = true)`;
  const post = async (body: Record<string, unknown>): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return ((await res.json()) as { records: unknown[] }).records.length;
  };
  const out: LakeCase[] = [];
  // Lookups: the mean over LOOKUP_IDS ids of the best of `runs` each; the first call per id warms
  // nothing but the write log (loaded once per process) and footers of earlier candidates.
  let ours = 0;
  let theirs = 0;
  let rows = 0;
  const per = { bytesRead: 0, readRequests: 0, listRequests: 0, filesOpened: 0 };
  for (const id of ids) {
    let stats: Record<string, number> = {};
    const a = await best(runs, async () => {
      const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/traces/${id}`)).json()) as { spans: unknown[]; stats: Record<string, number> };
      stats = body.stats;
      return body.spans.length;
    });
    const key = `lookup ${id}`;
    if (!duckMs.has(key)) duckMs.set(key, await best(runs, () => duck(`SELECT * FROM ${glob} WHERE trace_id = '${id}'`)));
    const b = duckMs.get(key)!;
    if (a.rows !== b.rows) throw new Error(`${lake} ${store} lookup ${id}: ${a.rows} spans from the port, ${b.rows} from DuckDB`);
    ours += a.ms;
    theirs += b.ms;
    rows += a.rows;
    per.bytesRead += stats.bytes_read ?? 0;
    per.readRequests += stats.read_requests ?? 0;
    per.listRequests += stats.list_requests ?? 0;
    per.filesOpened += (stats.files_considered ?? 0) - (stats.files_pruned_by_index ?? 0);
  }
  const n = ids.length;
  out.push({
    lake, store, query: 'trace-id lookup (no time range)', rows: Math.round(rows / n), oursMs: +(ours / n).toFixed(1), duckdbMs: +(theirs / n).toFixed(1), ratio: +(ours / theirs).toFixed(2),
    bytesRead: Math.round(per.bytesRead / n), readRequests: +(per.readRequests / n).toFixed(1), listRequests: +(per.listRequests / n).toFixed(1), filesOpened: +(per.filesOpened / n).toFixed(1),
  });
  const cases = filterCases(post, glob);
  for (const [query, fn, sql] of cases) {
    const a = await best(runs, fn);
    if (!duckMs.has(query)) duckMs.set(query, await best(runs, () => duck(sql)));
    const b = duckMs.get(query)!;
    if (a.rows !== b.rows) throw new Error(`${lake} ${store} ${query}: ${a.rows} rows from the port, ${b.rows} from DuckDB`);
    out.push({ lake, store, query, rows: a.rows, oursMs: +a.ms.toFixed(1), duckdbMs: +b.ms.toFixed(1), ratio: +(a.ms / b.ms).toFixed(2) });
  }
  return out;
}

/** Both lakes, local and (when it starts) on radosgw. */
export async function benchLakes(runs = 3, withS3 = true): Promise<LakeCase[]> {
  const root = await mkdtemp(join(tmpdir(), 's3pq-benchlake-'));
  const out: LakeCase[] = [];
  let s3: S3Server | undefined;
  try {
    if (withS3) s3 = await startS3Server().catch((err: unknown) => (console.error(`radosgw did not start: ${String(err)}`), undefined));
    const lakes = ([['one partition, ~100k spans', ONE_PARTITION], ['500 files, 48 hourly partitions', SMALL_FILES]] as [string, LakeShape][]).filter(
      ([, shape]) => (!process.argv.includes('--one') || shape === ONE_PARTITION) && (!process.argv.includes('--small') || shape === SMALL_FILES),
    );
    for (const [lake, shape] of lakes) {
      const dataDir = join(root, `data-${shape.files}`);
      console.error(`writing the lake: ${lake} …`);
      await writeLake(dataDir, shape, process.env.LAKE_TOML ?? '');
      const ids = await lookupIds(`read_parquet('${dataDir}/traces/**/*.parquet')`, shape.seed);
      const duckMs = new Map<string, { ms: number; rows: number }>();
      const local = await startBenchDaemon(await mkdtemp(join(root, 'd-')), `[wal]\ndir = "${join(root, `wal-${shape.files}`)}"`, dataDir);
      try {
        out.push(...(await measure(lake, 'local', dataDir, local.ports.query!, runs, ids, duckMs)));
      } finally {
        await local.stop();
      }
      if (s3) await measureS3(s3);
      if (shape === SMALL_FILES && !process.argv.includes('--no-compaction')) {
        console.error('compacting the lake …');
        compaction = await compactLake(dataDir);
        const after = await startBenchDaemon(await mkdtemp(join(root, 'd-')), `[wal]\ndir = "${join(root, `wal-c-${shape.files}`)}"`, dataDir);
        try {
          out.push(...(await measure(`${lake}, compacted`, 'local', dataDir, after.ports.query!, runs, ids, new Map())));
        } finally {
          await after.stop();
        }
      }
      continue;
      async function measureS3(s3: S3Server): Promise<void> {
      const bucket = `lake-${shape.files}`;
      const s3Toml = `backend = "s3"\n[s3]\nendpoint = "${s3.endpoint}"\nregion = "${s3.region}"\nbucket = "${bucket}"\nforce_path_style = true\ncreate_bucket = true\n[s3.credentials]\ntype = "explicit"\naccess_key_id = "${s3.accessKeyId}"\nsecret_access_key = "${s3.secretAccessKey}"\n`;
      console.error(`copying the lake to radosgw …`);
      await copyToStore(dataDir, `[storage]\n${s3Toml}`);
      const remote = await startBenchDaemon(await mkdtemp(join(root, 'd-')), `${s3Toml}[wal]\ndir = "${join(root, `wal-s3-${shape.files}`)}"`, dataDir);
      try {
        out.push(...(await measure(lake, 'radosgw', dataDir, remote.ports.query!, runs, ids, duckMs)));
      } finally {
        await remote.stop();
      }
      }
    }
  } finally {
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  }
  return out;
}

export function compactionTable(c: LakeCompaction): string {
  const mib = (n: number): string => (n / 2 ** 20).toFixed(2);
  return `| lake | partitions merged | rows | files before → after | MiB before → after | compaction CPU s | wall s | CPU µs per row |
|---|---|---|---|---|---|---|---|
| 500 files, 48 hourly partitions (local) | ${c.partitions} | ${c.rows.toLocaleString('en')} | ${c.filesBefore} → ${c.filesAfter} | ${mib(c.bytesBefore)} → ${mib(c.bytesAfter)} | ${c.cpuSeconds} | ${c.wallSeconds} | ${c.rows > 0 ? ((c.cpuSeconds * 1e6) / c.rows).toFixed(1) : ''} |
`;
}

export function lakeTable(cases: readonly LakeCase[]): string {
  const rows = cases.map(
    (c) =>
      `| ${c.lake} | ${c.store} | ${c.query} | ${c.rows} | ${c.oursMs} | ${c.duckdbMs} | ${c.ratio} | ${c.filesOpened ?? ''} | ${c.bytesRead?.toLocaleString('en') ?? ''} | ${c.readRequests ?? ''} | ${c.listRequests ?? ''} |`,
  );
  return `| lake | store | query | rows | query port ms | DuckDB ms (local files) | port ÷ DuckDB | files opened | bytes read | read requests | LIST requests |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.argv[2] ?? 3);
  const cases = await benchLakes(runs, !process.argv.includes('--local'));
  console.log(lakeTable(cases));
  const c = lastLakeCompaction();
  if (c) console.log(compactionTable(c));
}
