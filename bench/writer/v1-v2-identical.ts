/**
 * `npx tsx bench/writer/v1-v2-identical.ts`: the bench loads of the three signals written twice,
 * in the resource layout of schema version 1 (no dedicated resource columns) and of version 2
 * (the default `promoted_resource_attributes`), then read back by DuckDB: every column both
 * files have must read identical values row for row, except `resource_attributes`, which must
 * equal version 2's map with its dedicated columns put back (what the query port does).
 * Prints one line per signal and exits 1 on the first difference.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { defaultConfig } from '../../src/config/index.js';
import { decodeRequest, type Signal } from '../../src/otlp/decode.js';
import { encodeParquet } from '../../src/parquet/writer.js';
import { convertLogs } from '../../src/pipeline/convert-logs.js';
import { convertMetrics } from '../../src/pipeline/convert-metrics.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { DATASETS, promotedSpecs } from '../../src/schema/datasets.js';
import { isResourceSpec, type PromotedSpec } from '../../src/schema/promoted.js';
import { duckdbQuery } from '../../test/helpers/duckdb.js';
import { logRequests, metricRequests } from '../load/logs-metrics.js';
import { traceRequests } from '../load/traces.js';

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const defaults = promotedSpecs(defaultConfig());

function convert(signal: Signal, payloads: Uint8Array[], promoted: readonly PromotedSpec[]): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (const p of payloads) {
    const d = decodeRequest(signal, 'protobuf', p) as never;
    const c = signal === 'traces' ? convertTraces(d, partitioner, promoted) : signal === 'logs' ? convertLogs(d, partitioner, promoted, 0n) : convertMetrics(d, partitioner, promoted);
    for (const g of c.groups) out.push(g.batch);
  }
  return out;
}

const dir = await mkdtemp(join(tmpdir(), 's3pq-v1v2-'));
let failed = false;
try {
  const loads: [Signal, Uint8Array[]][] = [['traces', traceRequests(42, 16, 512)], ['logs', logRequests(7, 16, 512)], ['metrics', metricRequests(9, 16, 100)]];
  for (const [signal, payloads] of loads) {
    const v2 = defaults[signal];
    const v1 = v2.filter((s) => !isResourceSpec(s));
    const files: string[] = [];
    for (const [name, promoted] of [['v1', v1], ['v2', v2]] as const) {
      const path = join(dir, `${signal}-${name}.parquet`);
      await writeFile(path, encodeParquet(convert(signal, payloads, promoted), new Map(), { compression: 'ZSTD', rowGroupSize: 100_000, pageSize: 1 << 20, dictionaryEnabled: true, statisticsEnabled: true, columnEncodings: DATASETS[signal].storage.encodings }));
      files.push(path);
    }
    const cols = (await duckdbQuery(`SELECT name FROM parquet_schema('${files[0]}') WHERE name <> 'duckdb_schema' AND name IN (SELECT name FROM parquet_schema('${files[1]}'))`)).map((r) => String(r.name));
    const top = DATASETS[signal].schema(v1).fields.map((f) => f.name).filter((c) => cols.includes(c));
    const resource = v2.filter(isResourceSpec);
    const read = (f: string, extra: string[]) => duckdbQuery(`SELECT ${[...top.map((c) => `to_json("${c}")::VARCHAR AS "${c}"`), ...extra].join(', ')} FROM read_parquet('${f}')`);
    const a = await read(files[0]!, []);
    const b = await read(files[1]!, resource.map((s) => `"${s.column}"::VARCHAR AS "${s.column}"`));
    let diffs = 0;
    let moved = 0;
    for (let i = 0; i < a.length && diffs === 0; i++) {
      const x = a[i]!;
      const y = b[i]!;
      for (const c of top) {
        if (c === 'resource_attributes') {
          const map = JSON.parse(String(y[c])) as Record<string, string>;
          for (const s of resource) if (y[s.column] !== null) (map[s.attribute] = String(y[s.column])), moved++;
          const sorted = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort(([k1], [k2]) => (k1 < k2 ? -1 : 1)));
          if (sorted(JSON.parse(String(x[c])) as Record<string, string>) !== sorted(map)) diffs++, console.error(signal, 'row', i, c, x[c], '≠', JSON.stringify(map));
        } else if (x[c] !== y[c]) diffs++, console.error(signal, 'row', i, c, x[c], '≠', y[c]);
      }
    }
    if (a.length !== b.length || a.length === 0) diffs++;
    failed ||= diffs > 0;
    console.log(`${signal.padEnd(8)} rows ${a.length}/${b.length}, ${top.length} common columns, ${moved} resource values moved to ${resource.length} columns: ${diffs === 0 ? 'identical' : 'DIFFERENT'}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
