/**
 * Just the query part of `npm run bench -- --quick`: stores the same 128 trace requests through
 * the daemon (HTTP/protobuf), then times our query port against DuckDB over those files.
 * Needs `npm run build` first (the daemon runs from dist/).
 *
 *   npx tsx bench/query-only.ts [runs=3] [dataDir]   (a dataDir from an earlier run is reused)
 */
import { mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRequest } from '../src/otlp/decode.js';
import type { ExportTraceServiceRequest } from '../src/otlp/types.js';
import { bytesToHex } from '../src/otlp/values.js';
import { startBenchDaemon } from './harness/daemon.js';
import { benchQuery } from './query.js';
import { traceRequests } from './load/traces.js';

const runs = Number(process.argv[2] ?? 3);
const traces = traceRequests(42, 64, 512);
let dataDir = process.argv[3];
if (!dataDir || !existsSync(dataDir)) {
  const dir = await mkdtemp(join(tmpdir(), 's3pq-benchq-data-'));
  dataDir = dataDir ?? `${dir}/data`;
  const d = await startBenchDaemon(dir, process.env.BENCH_TOML ?? '', dataDir);
  for (let i = 0; i < 128; i++) {
    const res = await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', body: traces[i % traces.length]!, headers: { 'content-type': 'application/x-protobuf' } });
    await res.arrayBuffer();
  }
  await d.stop();
  console.error(`data in ${dataDir}`);
}
const sample = decodeRequest('traces', 'protobuf', traces[3]!) as ExportTraceServiceRequest;
const traceId = bytesToHex(sample.resourceSpans[0]!.scopeSpans[0]!.spans[100]!.traceId);
for (const q of await benchQuery(await mkdtemp(join(tmpdir(), 's3pq-benchq-')), dataDir, traceId, runs)) {
  console.log(`${q.name.padEnd(20)} rows ${String(q.rows).padStart(6)}  port ${String(q.oursMs).padStart(7)} ms  duckdb ${String(q.duckdbMs).padStart(7)} ms  ratio ${q.ratio}`);
}
