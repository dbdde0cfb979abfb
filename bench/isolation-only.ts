/**
 * Just the query-isolation part of `npm run bench`: stores trace requests through the daemon
 * (HTTP/protobuf) unless a dataDir from an earlier run is given, then runs `benchIsolation`.
 * Needs `npm run build` first (the daemon runs from dist/).
 *
 *   npx tsx bench/isolation-only.ts [requests=200] [lakeRequests=600] [dataDir] [encodeWorkers=0] [readers=child] [queryToml]
 *
 * readers: `child` (each broad query read by a `curl` process of its own) or `in-process` (read
 * on the load generator's own event loop, the earlier measurement); queryToml: extra `[query]`
 * keys for the daemon under test, e.g. `worker_nice = 0` (newlines as `\n`).
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchDaemon } from './harness/daemon.js';
import { benchIsolation, type QueryReaders } from './isolation.js';
import { traceRequests } from './load/traces.js';

const requests = Number(process.argv[2] ?? 200);
const lakeRequests = Number(process.argv[3] ?? 600);
const encodeWorkers = Number(process.argv[5] ?? 0);
const readers = (process.argv[6] ?? 'child') as QueryReaders;
if (readers !== 'child' && readers !== 'in-process') throw new Error(`readers: child or in-process, not ${String(readers)}`);
const queryToml = (process.argv[7] ?? '').replaceAll('\\n', '\n');
const traces = traceRequests(42, 64, 512);
let dataDir = process.argv[4];
if (!dataDir || !existsSync(dataDir)) {
  const dir = await mkdtemp(join(tmpdir(), 's3pq-benchiso-data-'));
  dataDir = dataDir ?? `${dir}/data`;
  const d = await startBenchDaemon(dir, '[wal]\nfsync = "never"', dataDir);
  for (let i = 0; i < lakeRequests; i++) {
    const res = await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', body: traces[i % traces.length]!, headers: { 'content-type': 'application/x-protobuf' } });
    await res.arrayBuffer();
  }
  await d.stop();
  console.error(`data in ${dataDir}`);
}
console.log(JSON.stringify(await benchIsolation(dataDir, traces, 512, requests, 4, encodeWorkers, readers, queryToml), null, 2));
