/**
 * `npx tsx bench/writer/resource-columns-ab.ts [rounds=5]`: CPU per span of the traces path's
 * in-process stages (one-pass convert, flush sort, Parquet encode) on the bench load, for three
 * resource layouts interleaved round by round: none (schema v1's layout), the default
 * `promoted_resource_attributes`, and only the five attributes the load's resources carry. CPU is process user+system, best of `rounds`.
 */
import { defaultConfig } from '../../src/config/index.js';
import { encodeParquet } from '../../src/parquet/writer.js';
import { convertTracesWire } from '../../src/pipeline/convert-traces-wire.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { DATASETS, promotedSpecs } from '../../src/schema/datasets.js';
import { isResourceSpec, parsePromotedResource, type PromotedSpec } from '../../src/schema/promoted.js';
import { traceRequests } from '../load/traces.js';

const rounds = Number(process.argv[2] ?? 5);
const payloads = traceRequests(42, 64, 512);
const spans = 64 * 512;
const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const v2 = promotedSpecs(defaultConfig()).traces;
const own = v2.filter((s) => !isResourceSpec(s));
const layouts: [string, PromotedSpec[]][] = [
  ['none (v1 layout)', own],
  [`default ${v2.length - own.length}`, v2],
  ['present 5', [...own, ...['service.version', 'host.name', 'k8s.namespace.name', 'k8s.pod.name', 'telemetry.sdk.language'].map(parsePromotedResource)]],
];
const layout = DATASETS.traces.storage;

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const best = new Map<string, { convert: number; sort: number; encode: number; bytes: number }>();
for (let r = 0; r < rounds + 1; r++) {
  for (const [name, promoted] of layouts) {
    let t = cpu();
    const batches = [];
    for (const p of payloads) for (const g of convertTracesWire(p, partitioner, promoted).groups) batches.push(g.batch);
    const convert = cpu() - t;
    t = cpu();
    const sorted = sortBatches(batches, layout.sortBy);
    const sort = cpu() - t;
    t = cpu();
    const file = encodeParquet([sorted], new Map(), { compression: 'ZSTD', rowGroupSize: layout.rowGroupRows ?? 100_000, pageSize: layout.pageBytes ?? 1 << 20, ...(layout.writeBatchRows ? { writeBatchRows: layout.writeBatchRows } : {}), dictionaryEnabled: true, statisticsEnabled: true, columnEncodings: layout.encodings });
    const encode = cpu() - t;
    if (r === 0) continue; // warm-up
    const b = best.get(name);
    best.set(name, { convert: Math.min(b?.convert ?? Infinity, convert), sort: Math.min(b?.sort ?? Infinity, sort), encode: Math.min(b?.encode ?? Infinity, encode), bytes: file.length });
  }
}
const us = (s: number) => ((s * 1e6) / spans).toFixed(2).padStart(6);
console.log(`# ${spans} spans, best of ${rounds} (µs/span of CPU)`);
console.log('layout              convert   sort  encode   total   B/span');
for (const [name, b] of best) console.log(`${name.padEnd(18)} ${us(b.convert)} ${us(b.sort)} ${us(b.encode)}  ${us(b.convert + b.sort + b.encode)}   ${(b.bytes / spans).toFixed(2)}`);
