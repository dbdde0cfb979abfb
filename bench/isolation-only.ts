/**
 * Just the query-isolation part of `npm run bench`: stores trace requests through the daemon
 * (HTTP/protobuf) unless a dataDir from an earlier run is given, then runs `benchIsolation`.
 * Needs `npm run build` first (the daemon runs from dist/).
 *
 *   npx tsx bench/isolation-only.ts [requests=200] [lakeRequests=600] [dataDir] [encodeWorkers=0]
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchDaemon } from './harness/daemon.js';
import { benchIsolation } from './isolation.js';
import { traceRequests } from './load/traces.js';

const requests = Number(process.argv[2] ?? 200);
const lakeRequests = Number(process.argv[3] ?? 600);
const encodeWorkers = Number(process.argv[5] ?? 0);
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
console.log(JSON.stringify(await benchIsolation(dataDir, traces, 512, requests, 4, encodeWorkers), null, 2));
