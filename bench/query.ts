/**
 * Our query port against DuckDB (@duckdb/node-api) over the same files the daemon wrote: a
 * trace-id lookup, a selective filter, a broad filter, and a projection with a limit. Each is
 * the best of several runs (DuckDB keeps no cache between runs here either: a fresh
 * connection, files re-read; our port keeps its footer cache, as it does in production).
 */
import { best } from './harness/best.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { startBenchDaemon } from './harness/daemon.js';
import { filterCases, type QueryCaseDef } from './harness/filter-cases.js';

export interface QueryCase {
  name: string;
  oursMs: number;
  duckdbMs: number;
  /** ours / DuckDB: below 1 we are faster. */
  ratio: number;
  rows: number;
}

/** `best`, its time rounded to 0.1 ms for the table. */
async function bestRounded(runs: number, fn: () => Promise<number>): Promise<{ ms: number; rows: number }> {
  const r = await best(runs, fn);
  return { ms: +r.ms.toFixed(1), rows: r.rows };
}

export async function benchQuery(workDir: string, dataDir: string, traceId: string, runs = 3): Promise<QueryCase[]> {
  const d = await startBenchDaemon(workDir, '', dataDir);
  const port = d.ports.query!;
  const post = async (body: Record<string, unknown>): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as { records: unknown[] };
    return json.records.length;
  };
  const glob = `read_parquet('${dataDir}/traces/**/*.parquet', hive_partitioning = true, union_by_name = true)`;
  const duck = async (sql: string): Promise<number> => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll(sql)).getRowObjectsJson().length;
    conn.closeSync();
    db.closeSync();
    return rows;
  };
  const cases: QueryCaseDef[] = [
    ['trace-id lookup', async () => ((await (await fetch(`http://127.0.0.1:${port}/api/v1/traces/${traceId}`)).json()) as { spans: unknown[] }).spans.length, `SELECT * FROM ${glob} WHERE trace_id = '${traceId}'`],
    ...filterCases(post, glob),
    ['projection + limit', () => post({ dataset: 'traces', select: ['name', 'duration_ns', 'start_time'], limit: 1000 }), `SELECT name, duration_ns, start_time FROM ${glob} LIMIT 1000`],
  ];
  const out: QueryCase[] = [];
  try {
    for (const [name, ours, sql] of cases) {
      const a = await bestRounded(runs, ours);
      const b = await bestRounded(runs, () => duck(sql));
      if (a.rows !== b.rows) throw new Error(`${name}: ${a.rows} rows from the port, ${b.rows} from DuckDB`);
      out.push({ name, oursMs: a.ms, duckdbMs: b.ms, ratio: +(a.ms / b.ms).toFixed(2), rows: a.rows });
    }
  } finally {
    await d.stop();
  }
  return out;
}
