/**
 * The broad `select *` of issue 18 without the daemon: the engine and `execute` (what a query
 * worker runs) in this process over a local lake, timed by CPU, the answer's bytes counted and
 * dropped. For profiling (`node --cpu-prof --import tsx bench/query/broad-read.ts …`) and for
 * old → new numbers of the serialisers, side by side in one process:
 *
 *   npx tsx bench/query/broad-read.ts <dataDir> [answer=ndjson] [runs=3]
 *
 * answer: `ndjson`, `json`, `arrow` (what the query port runs: a broad read decoded in wasm,
 * NDJSON/JSON written from its Arrow buffers, Arrow forwarded); `ndjson-scan` (NDJSON from the
 * scan's column arrays, what a filtered query runs and broad reads ran before 2026-11-29 13:00Z);
 * `duckdb` (DuckDB on one thread, `COPY … (FORMAT JSON)` to a temporary file: the yardstick);
 * `arrow-scan` (Arrow built from the scan's column arrays, what a filtered query's Arrow answer runs); `records-ndjson`, `records-arrow` (the record path they replaced: an object per row,
 * JSON.stringify, and `tableFromJSON` for Arrow); `decode` (read and decode the columns, no
 * answer: the floor the serialisers stand on). The best run (by CPU) is printed last, and
 * each run's wasm memory (parquet-wasm's, which never shrinks) after it.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromJSON, tableToIPC } from 'apache-arrow';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { wasmMemory } from 'parquet-wasm/node';
import { parseConfigText } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { emptyStats, type QueryEngine, type QueryStats, type Record_ } from '../../src/query/engine.js';
import { engineFromConfig } from '../../src/query/engine-from-config.js';
import { arrowBatches } from '../../src/query/columnar/arrow-batches.js';
import { jsonBatches } from '../../src/query/columnar/json-batches.js';
import { execute } from '../../src/query/pool/execute.js';
import { recordBatches } from '../../src/query/serialise.js';
import { openStore } from '../../src/store/index.js';

const ANSWERS = ['ndjson', 'json', 'ndjson-scan', 'duckdb', 'arrow', 'arrow-scan', 'records-ndjson', 'records-arrow', 'decode'] as const;
type Answer = (typeof ANSWERS)[number];

const dataDir = process.argv[2];
const answer = (process.argv[3] ?? 'ndjson') as Answer;
const runs = Number(process.argv[4] ?? 3);
if (!dataDir || !ANSWERS.includes(answer)) throw new Error(`usage: broad-read.ts <dataDir> [${ANSWERS.join('|')}] [runs]`);
const config = parseConfigText(`[storage]\nbackend = "local"\nlocal_path = ${JSON.stringify(dataDir)}\n[partitioning]\nmax_past_hours = 0\n`);
const store = await openStore(config, createLogger('silent'), 'bench', { readOnly: true });
const engine = engineFromConfig(config, store, 'bench');
const q = { dataset: 'traces' };

async function* bytesOf(e: QueryEngine, a: Answer, stats: QueryStats): AsyncGenerator<Uint8Array> {
  switch (a) {
    case 'decode':
      for await (const b of e.queryColumns(q, stats).batches) yield new Uint8Array(b.rows.length * 0);
      return;
    case 'arrow-scan':
      yield* arrowBatches(e.queryColumns(q, stats));
      return;
    case 'duckdb': {
      // DuckDB on one thread writing the same rows as NDJSON (its CPU is this process's): the goal's yardstick.
      const out = join(await mkdtemp(join(tmpdir(), 's3pq-broad-duck-')), 'duck.ndjson');
      const db = await DuckDBInstance.create(':memory:', { threads: '1' });
      const conn = await db.connect();
      const glob = `read_parquet('${dataDir}/traces/**/*.parquet', hive_partitioning = true, union_by_name = true)`;
      const count = Number((await conn.runAndReadAll(`COPY (SELECT * FROM ${glob}) TO '${out}' (FORMAT JSON)`)).getRowObjectsJson()[0]?.Count ?? 0);
      conn.closeSync();
      db.closeSync();
      stats.rows_returned = count;
      yield new Uint8Array((await stat(out)).size); // its size, for the MiB column
      await rm(dirname(out), { recursive: true, force: true });
      return;
    }
    case 'ndjson-scan':
      yield* jsonBatches(e.queryColumns(q, stats), 'ndjson');
      return;
    case 'records-ndjson':
      yield* recordBatches(e.query(q, stats), 'ndjson');
      return;
    case 'records-arrow': {
      const all: Record_[] = [];
      for await (const r of e.query(q, stats)) all.push(r);
      yield tableToIPC(tableFromJSON(all), 'stream');
      return;
    }
    default:
      yield* execute(e, { kind: 'query', q, format: a }, stats);
  }
}

let best: Record<string, unknown> | null = null;
for (let i = 0; i < runs; i++) {
  const stats = emptyStats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  for await (const b of bytesOf(engine, answer, stats)) bytes += b.byteLength;
  const cpu = process.cpuUsage(cpu0);
  const run = { answer, rows: stats.rows_returned, mib: +(bytes / 2 ** 20).toFixed(1), ms: Math.round(performance.now() - t0), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2), wasmMiB: +(wasmMemory().buffer.byteLength / 2 ** 20).toFixed(1) };
  console.log(JSON.stringify(run));
  if (best === null || run.cpuSeconds < (best.cpuSeconds as number)) best = run;
}
console.log(JSON.stringify({ best }));
