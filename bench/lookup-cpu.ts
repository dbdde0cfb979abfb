/**
 * CPU time of one-partition trace lookups and filters, ours against DuckDB's, in one process
 * (issue 14): the query engine on a local store over the one-partition lake, and DuckDB (a fresh
 * instance per query, as bench/lake.ts does) over the same files. CPU time, not wall clock, so a
 * loaded shared machine still gives comparable ratios (bench/LAKE.md, session 2).
 *
 *   npx tsx bench/lookup-cpu.ts [lakeDir] [lookup | filter "<our filter>" "<SQL where>"]
 *
 * With `LOOKUP_PROFILE=file.cpuprofile`, our timed queries (only they) are profiled into that file.
 *
 * The lake is written into `lakeDir` when it has none (default: a new temp dir).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseConfigText } from '../src/config/index.js';
import { engineFromConfig } from '../src/query/engine-from-config.js';
import { emptyStats } from '../src/query/engine.js';
import { LocalStore } from '../src/store/index.js';
import { ONE_PARTITION, writeLake } from '../test/helpers/lake.js';
import { rng } from './load/traces.js';

const dir = process.argv[2] ?? join(await mkdtemp(join(tmpdir(), 's3pq-lookupcpu-')), 'data');
const mode = process.argv[3] ?? 'lookup';
const SELECT = ['trace_id', 'span_id', 'name', 'duration_ns'];
if (!existsSync(join(dir, 'traces'))) await writeLake(dir, ONE_PARTITION);

const glob = `read_parquet('${dir}/traces/**/*.parquet')`;
async function duck(sql: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const n = (await conn.runAndReadAll(sql)).getRowObjectsJson().length;
  conn.closeSync();
  db.closeSync();
  return n;
}
const idsDb = await DuckDBInstance.create(':memory:');
const idsConn = await idsDb.connect();
const all = (await idsConn.runAndReadAll(`SELECT DISTINCT trace_id FROM ${glob} ORDER BY trace_id`)).getRowObjectsJson().map((r) => String(r.trace_id));
idsConn.closeSync();
const r = rng(42);
const ids = Array.from({ length: 23 }, () => all[Math.floor(r() * all.length)]!);

const engine = engineFromConfig(parseConfigText(`[storage]\nlocal_path = ${JSON.stringify(dir)}\n`), new LocalStore(dir), 'bench');
const ours = mode === 'lookup' ? (id: string) => ({ filter: `trace_id = '${id}'` }) : () => ({ filter: process.argv[4]!, select: SELECT });
const sql = mode === 'lookup' ? (id: string) => `SELECT * FROM ${glob} WHERE trace_id = '${id}'` : () => `SELECT ${SELECT.join(', ')} FROM ${glob} WHERE ${process.argv[5]!}`;
const runs = mode === 'lookup' ? ids.slice(3) : ids.slice(3, 8);

async function query(id: string): Promise<{ rows: number; requests: number; bytes: number }> {
  const stats = emptyStats();
  let rows = 0;
  for await (const _ of engine.query({ dataset: 'traces', ...ours(id) }, stats)) rows++;
  return { rows, requests: stats.read_requests, bytes: stats.bytes_read };
}
for (const id of ids.slice(0, 3)) await query(id); // footers, page indexes, the write log: warm

const profile = process.env.LOOKUP_PROFILE;
const inspector = profile ? new Session() : null;
if (inspector) {
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
}
let cpu = process.cpuUsage();
const per = { rows: 0, requests: 0, bytes: 0 };
for (const id of runs) {
  const q = await query(id);
  per.rows += q.rows;
  per.requests += q.requests;
  per.bytes += q.bytes;
}
const oursCpu = process.cpuUsage(cpu);
if (inspector && profile) {
  const { profile: taken } = await inspector.post('Profiler.stop');
  await writeFile(profile, JSON.stringify(taken));
  inspector.disconnect();
}
cpu = process.cpuUsage();
let duckRows = 0;
for (const id of runs) duckRows += await duck(sql(id));
const duckCpu = process.cpuUsage(cpu);
if (duckRows !== per.rows) throw new Error(`${per.rows} rows from the engine, ${duckRows} from DuckDB`);
// Values too, not only counts: every selected column of every row, ours against DuckDB's (sorted).
const canon = (rows: Record<string, unknown>[]): string[] => rows.map((r) => JSON.stringify((mode === 'lookup' ? ['trace_id', 'span_id', 'name', 'duration_ns', 'events', 'attributes'] : SELECT).map((c) => jsonish(r[c])))).sort();
function jsonish(v: unknown): unknown {
  if (typeof v === 'bigint' || typeof v === 'number') return String(v); // DuckDB's JSON gives int64 as text
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonish(x)]));
  if (Array.isArray(v)) return v.map(jsonish);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonish(x)]));
  return v;
}
{
  const oursRows: Record<string, unknown>[] = [];
  for await (const rec of engine.query({ dataset: 'traces', ...ours(runs[0]!) })) oursRows.push(rec);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const theirs = (await conn.runAndReadAll(sql(runs[0]!))).getRowObjectsJson() as Record<string, unknown>[];
  conn.closeSync();
  db.closeSync();
  const [a, b] = [canon(oursRows), canon(theirs)];
  const same = mode === 'lookup' ? a.map((x) => JSON.parse(x).slice(0, 4)).join() === b.map((x) => JSON.parse(x).slice(0, 4)).join() : a.join() === b.join();
  if (!same) throw new Error(`values differ from DuckDB's: ${a.slice(0, 2).join(' | ')} vs ${b.slice(0, 2).join(' | ')}`);
}
const ms = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000 / runs.length;
const n = runs.length;
console.log(
  `${mode}: ours ${ms(oursCpu).toFixed(1)} ms CPU, DuckDB ${ms(duckCpu).toFixed(1)} ms CPU per query (${(ms(oursCpu) / ms(duckCpu)).toFixed(2)}×); ` +
    `rows ${per.rows / n}, ranged GETs ${(per.requests / n).toFixed(1)}, bytes ${Math.round(per.bytes / n)}`,
);
