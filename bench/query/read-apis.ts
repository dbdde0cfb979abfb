/**
 * `npx tsx bench/query/read-apis.ts [requests=128] [runs=5]` (after `npm run build`): stores
 * seeded traces (512 spans a request, 8 services, the last hour) through a daemon process, then
 * measures the daemon's CPU-seconds per Tempo / Jaeger API request (from /proc, so the client's
 * work is not counted) and what each search reports it read. Writes bench/READ-APIS.md.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRequest } from '../../src/otlp/decode.js';
import type { ExportTraceServiceRequest } from '../../src/otlp/types.js';
import { bytesToHex } from '../../src/otlp/values.js';
import { startBenchDaemon } from '../harness/daemon.js';
import { traceRequests } from '../load/traces.js';

const requests = Number(process.argv[2] ?? 128);
const runs = Number(process.argv[3] ?? 5);
const SPANS_PER_REQUEST = 512;

async function dirBytes(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.parquet')) continue;
    files++;
    bytes += (await stat(join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

const dir = await mkdtemp(join(tmpdir(), 's3pq-bench-readapi-'));
const d = await startBenchDaemon(dir, '[buffer]\nmax_age_seconds = 3600');
try {
  const now = Date.now();
  const traces = traceRequests(42, requests, SPANS_PER_REQUEST, now - 62 * 60_000);
  for (const body of traces) {
    const res = await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
    await res.arrayBuffer();
  }
  // Flush by restarting: SIGTERM flushes every buffer, the new process reads the same files.
  await d.stop();
  const q = await startBenchDaemon(dir, '[buffer]\nmax_age_seconds = 3600');
  try {
    const data = await dirBytes(join(dir, 'data', 'traces'));
    const sample = decodeRequest('traces', 'protobuf', traces[3]!) as ExportTraceServiceRequest;
    const traceId = bytesToHex(sample.resourceSpans[0]!.scopeSpans[0]!.spans[100]!.traceId);
    const base = `http://127.0.0.1:${q.ports.query}`;
    const cases: [string, string, Record<string, string>?][] = [
      ['tempo trace by id (protobuf)', `/tempo/api/v2/traces/${traceId}`, { accept: 'application/protobuf' }],
      ['jaeger trace by id', `/jaeger/api/traces/${traceId}`],
      ['tempo search {} limit 20', `/tempo/api/search?q=${encodeURIComponent('{}')}&limit=20`],
      ['tempo search service+error', `/tempo/api/search?q=${encodeURIComponent('{ resource.service.name = "checkout" && status = error }')}&limit=20`],
      ['tempo search status_code>=500', `/tempo/api/search?q=${encodeURIComponent('{ span.http.response.status_code >= 500 }')}&limit=20`],
      ['tempo search traceDuration', `/tempo/api/search?q=${encodeURIComponent('{ traceDuration > 45ms && rootServiceName = "cart" }')}&limit=20`],
      ['tempo search no match', `/tempo/api/search?q=${encodeURIComponent('{ name = "no-such-operation" }')}&limit=20`],
      ['tempo v2 tags', '/tempo/api/v2/search/tags'],
      ['tempo values service.name', '/tempo/api/v2/search/tag/resource.service.name/values'],
      ['jaeger services', '/jaeger/api/services'],
      ['jaeger search checkout', '/jaeger/api/traces?service=checkout&limit=20'],
    ];
    const lines: string[] = [];
    for (const [name, path, headers] of cases) {
      let info = '';
      const cpu0 = await q.cpuSeconds();
      for (let i = 0; i < runs; i++) {
        const res = await fetch(base + path, { headers: headers ?? {} });
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200) throw new Error(`${name}: ${res.status} ${body.toString('utf8').slice(0, 300)}`);
        if (i === 0 && path.includes('/api/search?')) {
          const r = JSON.parse(body.toString('utf8')) as { traces: unknown[]; metrics: { inspectedBytes: string; inspectedTraces: number } };
          info = `${r.traces.length} traces, inspected ${r.metrics.inspectedTraces} traces / ${(Number(r.metrics.inspectedBytes) / 1e6).toFixed(2)} MB${res.headers.get('x-search-truncated') ? ' (truncated)' : ''}`;
        } else if (i === 0) info = `${body.length} B answer`;
      }
      const perRequest = ((await q.cpuSeconds()) - cpu0) / runs;
      lines.push(`| ${name} | ${(perRequest * 1000).toFixed(0)} | ${info} |`);
      console.log(lines.at(-1));
    }
    const spans = requests * SPANS_PER_REQUEST;
    const md = `# Tempo / Jaeger read APIs: daemon CPU per request

\`npx tsx bench/query/read-apis.ts ${requests} ${runs}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}
(a shared, loaded machine), ${new Date().toISOString().slice(0, 10)}. ${spans} spans (8 services,
traces of 8 spans, the last hour), ${data.files} Parquet files, ${(data.bytes / 1e6).toFixed(1)} MB.
CPU-milliseconds of the daemon process per request (user + system from /proc, mean of ${runs}),
cold footer cache on the first of the runs.

| request | daemon CPU ms / request | answer |
| --- | ---: | --- |
${lines.join('\n')}
`;
    await writeFile(new URL('../READ-APIS.md', import.meta.url), md);
  } finally {
    await q.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
