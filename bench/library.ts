/**
 * `npm run bench:library [-- --quick]`: the library's batchWrite at parallelism 1, 2 and 4 on the
 * same records, side by side in one run (issue 8: the speed-up of parallelism 4 over 1). Runs the
 * built library (dist/), so worker threads load plain JavaScript as users' would. Writes
 * bench/library-results.json and bench/LIBRARY.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type * as Lib from '../src/index.js';

const quick = process.argv.includes('--quick');
const RECORDS = quick ? 100_000 : 400_000;
const ROUNDS = quick ? 2 : 3;
const BATCH = 25_000;

const lib = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof Lib;

/** Seeded telemetry-like records: 12 fields, a mix of types, spread over 4 hours. */
function records(n: number): Record<string, unknown>[] {
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const services = ['checkout', 'cart', 'payment', 'search', 'auth'];
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(Date.UTC(2024, 0, 1, i % 4, Math.floor(rand() * 60), Math.floor(rand() * 60))).toISOString(),
    id: `span_${i}`,
    trace_id: Math.floor(rand() * 2 ** 48).toString(16).padStart(32, '0'),
    service_name: services[i % services.length],
    operation: `GET /api/v${i % 3}/items/${i % 50}`,
    duration_ms: Math.floor(rand() * 2000),
    status_code: rand() < 0.05 ? 500 : 200,
    bytes: Math.floor(rand() * 1e6),
    ratio: rand(),
    error: rand() < 0.05,
    tags: { region: ['eu', 'us', 'ap'][i % 3], tier: i % 2 === 0 ? 'gold' : 'free' },
    retries: [i % 3, i % 5],
  }));
}

const schema = lib.ParquetSchema.empty()
  .withField('timestamp', 'timestamp', false)
  .withField('id', 'string', false)
  .withField('trace_id', 'string', false)
  .withField('service_name', 'string', false)
  .withField('operation', 'string', false)
  .withField('duration_ms', 'int64', false)
  .withField('status_code', 'int32', false)
  .withField('bytes', 'int64', false)
  .withField('ratio', 'double', false)
  .withField('error', 'boolean', false)
  .withField('tags', 'map<string,string>', true)
  .withField('retries', 'list<int32>', true);

const data = records(RECORDS);
const dir = await mkdtemp(join(tmpdir(), 's3pq-benchlib-'));
const results: { parallelism: number; bestMs: number; recordsPerSecond: number; files: number; bytes: number }[] = [];
try {
  const connector = new lib.S3ParquetConnector(lib.S3Config.local(dir), lib.ParquetConfig.create().withCompression('ZSTD'));
  for (const parallelism of [1, 2, 4]) {
    let best = Number.POSITIVE_INFINITY;
    let last: Lib.BatchWriteResult | undefined;
    for (let round = 0; round <= ROUNDS; round++) {
      const started = performance.now();
      last = await connector.batchWrite({
        schema,
        records: data,
        basePath: `p${parallelism}-r${round}`,
        partitioning: [lib.TimePartitioning.create()],
        parallelism,
        batchSize: BATCH,
      });
      const ms = performance.now() - started;
      // Round 0 warms up (worker threads start, wasm compiles) and is not counted.
      if (round > 0) best = Math.min(best, ms);
    }
    results.push({ parallelism, bestMs: Math.round(best), recordsPerSecond: Math.round(RECORDS / (best / 1000)), files: last!.fileCount, bytes: last!.bytesWritten });
    console.log(`parallelism ${parallelism}: ${Math.round(best)} ms, ${Math.round(RECORDS / (best / 1000)).toLocaleString('en')} records/s`);
  }
  await connector.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}

// Where the time goes, per record, on one thread: copying records to a worker (structured clone,
// paid on both sides), validation, Arrow building and Parquet encoding.
const records_ = (await import(new URL('../dist/library/records.js', import.meta.url).href)) as typeof import('../src/library/records.js');
const writer_ = (await import(new URL('../dist/parquet/writer.js', import.meta.url).href)) as typeof import('../src/parquet/writer.js');
const sample = data.slice(0, BATCH);
const perRecord = (fn: () => unknown): number => {
  const t = performance.now();
  for (let i = 0; i < 3; i++) fn();
  return Math.round(((performance.now() - t) / 3 / sample.length) * 1000 * 100) / 100;
};
const sampleRows = records_.normalizeRecords(schema, sample);
const batch = records_.buildBatch(schema, sampleRows);
const stages = {
  clone: perRecord(() => structuredClone(sample)),
  validate: perRecord(() => records_.normalizeRecords(schema, sample)),
  build: perRecord(() => records_.buildBatch(schema, sampleRows)),
  encode: perRecord(() => writer_.encodeParquet([batch], new Map(), { compression: 'ZSTD', rowGroupSize: 100_000, pageSize: 1 << 20, dictionaryEnabled: true, statisticsEnabled: true })),
};
console.log('µs per record:', stages);

const base = results[0]!.bestMs;
const machine = { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
await writeFile('bench/library-results.json', JSON.stringify({ date: new Date().toISOString(), quick, machine, records: RECORDS, batchSize: BATCH, results, microsecondsPerRecord: stages }, null, 2) + '\n');
const rows = results.map((r) => `| ${r.parallelism} | ${r.bestMs} | ${r.recordsPerSecond.toLocaleString('en')} | ${(base / r.bestMs).toFixed(2)}× | ${r.files} | ${(r.bytes / 2 ** 20).toFixed(1)} |`);
await writeFile(
  'bench/LIBRARY.md',
  `# Library batch writes: parallelism

\`npm run bench:library${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 16)}Z — ${machine.cpus} cores (${machine.model}), Node ${process.version}.
${RECORDS.toLocaleString('en')} records of 12 fields (time-partitioned into 4 hours, ${BATCH.toLocaleString('en')} records per file, ZSTD),
best of ${ROUNDS} after a warm-up round, side by side in one run.

| parallelism | ms | records/s | speed-up vs 1 | files | MiB |
|---|---|---|---|---|---|
${rows.join('\n')}

With parallelism N the calling thread validates, builds and encodes every N-th file itself and
N - 1 worker threads do the others, receiving their records by structured clone; the calling
thread also partitions the records and writes the files.

Where the time goes, µs per record on one thread (same run): copying a record to a worker
${stages.clone} (structured clone: serialised on the calling thread, deserialised on the worker),
validation ${stages.validate}, Arrow building ${stages.build}, Parquet encoding ${stages.encode}.
A record costs about ${(stages.validate + stages.build + stages.encode).toFixed(1)} µs to write on one thread and about ${stages.clone} µs more to
hand to a worker, and on this machine the two cores are shared by the calling thread, the
workers and V8's own GC and compiler threads. That is why ${results.at(-1)!.parallelism} threads gain
${(base / results.at(-1)!.bestMs).toFixed(2)}× here, not 2×; runs on this shared machine have ranged from about 1.0× to 1.3×. More cores,
or records costlier to encode than to copy, scale better; the copy is the floor (sending JSON text
would halve it but lose bigints, bytes, Maps and non-finite numbers).
`,
);
