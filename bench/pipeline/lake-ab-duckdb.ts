/**
 * Old against new, end to end: each tree's daemon (its own dist/, built there) receives the same
 * seeded bench trace requests over OTLP/HTTP and stops (flushing everything); DuckDB then reads
 * both lakes' traces files and the rows must be identical, every column, in (trace_id, span_id,
 * start_time) order. Prints the row count, the column count and the two hashes. A lake of traces
 * schema version 3 stores no `end_time`: it is read as `start_time + duration_ns` (the DDL
 * view's derivation), so a version-2 lake's stored end times are compared with the derived ones.
 *
 *   npx tsx bench/pipeline/lake-ab-duckdb.ts DIR_OLD DIR_NEW [requests=60]
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startBenchDaemon } from '../harness/daemon.js';
import { traceRequests } from '../load/traces.js';

const [oldRoot, newRoot, requestsArg] = process.argv.slice(2);
if (oldRoot === undefined || newRoot === undefined) throw new Error('usage: lake-ab-duckdb.ts DIR_OLD DIR_NEW [requests]');
const requests = Number(requestsArg ?? 60);
const payloads = traceRequests(42, requests, 512);

async function lake(root: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3pq-lakeab-'));
  const here = process.cwd();
  process.chdir(root); // the bench daemon runs `dist/cli.js` of the current directory
  try {
    const d = await startBenchDaemon(dir);
    for (const body of payloads) {
      const res = await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${root}: status ${res.status}`);
    }
    await d.stop();
  } finally {
    process.chdir(here);
  }
  return dir;
}

async function rows(dir: string): Promise<{ count: number; columns: number; hash: string }> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const stored = (await conn.runAndReadAll(`select count(*)::INT as n from parquet_schema('${dir}/data/**/*.parquet') where name = 'end_time'`)).getRowObjectsJson()[0]!.n !== 0;
  const derived = stored ? '' : ', make_timestamp_ns(epoch_ns(start_time) + duration_ns) as end_time';
  const reader = await conn.runAndReadAll(
    `select * exclude (filename)${derived} from read_parquet('${dir}/data/**/*.parquet', union_by_name = true, filename = true) order by trace_id, span_id, start_time`,
  );
  const all = reader.getRowObjectsJson();
  const hash = createHash('sha256');
  // Keys sorted: a derived column comes last in one lake and in place in the other.
  for (const r of all) hash.update(JSON.stringify(Object.fromEntries(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1))))).update('\n');
  return { count: all.length, columns: reader.columnCount, hash: hash.digest('hex') };
}

const a = await lake(oldRoot);
const b = await lake(newRoot);
try {
  const [ra, rb] = [await rows(a), await rows(b)];
  console.log(`old: ${ra.count} rows × ${ra.columns} columns, ${ra.hash.slice(0, 16)}…`);
  console.log(`new: ${rb.count} rows × ${rb.columns} columns, ${rb.hash.slice(0, 16)}…`);
  if (ra.count === 0 || ra.count !== rb.count || ra.hash !== rb.hash) {
    console.log('DIFFERENT');
    process.exitCode = 1;
  } else console.log('identical');
} finally {
  await rm(a, { recursive: true, force: true });
  await rm(b, { recursive: true, force: true });
}
