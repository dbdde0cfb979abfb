/**
 * `npx tsx bench/writer/encode-breakdown.ts [rounds=5] [--columns]`: where a traces flush's
 * Parquet encode spends its CPU, on the bench's realistic trace load (bench/load/traces.ts,
 * 64 requests × 512 spans, sorted by the traces layout, one file as the daemon writes it).
 *
 * Stages: the Arrow table and `tableToIPC` (apache-arrow, JS), `wasm.Table.fromIPCStream`
 * (the copy into wasm), `wasm.writeParquet` itself. Then writeParquet under writer settings
 * that differ from the traces layout in one thing each (statistics, dictionary, pages, write
 * batch, row groups, codec), with the bytes each gives. `--columns`: writeParquet of each
 * top-level column alone (same settings), so a column's share can be read off.
 *
 * CPU is process user+system of the measured call alone, best of `rounds` (rounds interleave
 * the variants, so a load spike hits them alike).
 */
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { DATASETS } from '../../src/schema/datasets.js';
import { sortedBenchTraces } from '../load/sorted-traces.js';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const perColumn = args.includes('--columns');
const { spans, sorted } = sortedBenchTraces();
const layout = DATASETS.traces.storage;
const arrow = new Table([sorted]);

interface Settings {
  readonly codec: wasm.Compression;
  readonly rowGroup: number;
  readonly pageBytes: number;
  readonly writeBatch: number;
  readonly dictionary: boolean;
  readonly stats: wasm.EnabledStatistics;
  /** Per-column statistics over the global setting (top-level columns only). */
  readonly columnStats?: Readonly<Record<string, wasm.EnabledStatistics>>;
  readonly encodings: boolean;
  readonly v2?: boolean;
  readonly dictionaryPageBytes?: number;
}

const today: Settings = {
  codec: wasm.Compression.ZSTD,
  rowGroup: layout.rowGroupRows ?? 100_000,
  pageBytes: layout.pageBytes ?? 1 << 20,
  writeBatch: layout.writeBatchRows ?? 1024,
  dictionary: true,
  stats: wasm.EnabledStatistics.Page,
  encodings: true,
};

const ENC: Record<string, wasm.Encoding> = {
  DELTA_LENGTH_BYTE_ARRAY: wasm.Encoding.DELTA_LENGTH_BYTE_ARRAY,
  DELTA_BINARY_PACKED: wasm.Encoding.DELTA_BINARY_PACKED,
};

function props(s: Settings, columns: ReadonlySet<string>): wasm.WriterProperties {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(s.codec)
    .setMaxRowGroupSize(s.rowGroup)
    .setDataPageSizeLimit(s.pageBytes)
    .setWriteBatchSize(s.writeBatch)
    .setDictionaryEnabled(s.dictionary)
    .setStatisticsEnabled(s.stats);
  if (s.encodings) {
    for (const [c, e] of Object.entries(layout.encodings)) if (columns.has(c)) b = b.setColumnDictionaryEnabled(c, false).setColumnEncoding(c, ENC[e]!);
  }
  if (s.v2) b = b.setWriterVersion(wasm.WriterVersion.V2);
  if (s.dictionaryPageBytes) b = b.setDictionaryPageSizeLimit(s.dictionaryPageBytes);
  for (const [c, st] of Object.entries(s.columnStats ?? {})) if (columns.has(c)) b = b.setColumnStatisticsEnabled(c, st);
  return b.build();
}

function cpuMs(fn: () => void): number {
  const c = process.cpuUsage();
  fn();
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000;
}

const us = (ms: number, n = spans): string => ((ms * 1000) / n).toFixed(2);

// --- Stages -------------------------------------------------------------------------------
const best = { table: Infinity, ipc: Infinity, fromIpc: Infinity, write: Infinity };
let ipcBytes = 0;
let fileBytes = 0;
const allColumns = new Set(arrow.schema.fields.map((f) => f.name));
for (let r = 0; r < rounds; r++) {
  let t!: Table;
  let ipc!: Uint8Array;
  let w!: wasm.Table;
  best.table = Math.min(best.table, cpuMs(() => (t = new Table([sorted]))));
  best.ipc = Math.min(best.ipc, cpuMs(() => (ipc = tableToIPC(t, 'stream'))));
  best.fromIpc = Math.min(best.fromIpc, cpuMs(() => (w = wasm.Table.fromIPCStream(ipc))));
  const p = props(today, allColumns);
  best.write = Math.min(best.write, cpuMs(() => (fileBytes = wasm.writeParquet(w, p).length)));
  ipcBytes = ipc.length;
}
const total = best.table + best.ipc + best.fromIpc + best.write;
console.log(`# encode breakdown, ${spans} spans, best of ${rounds} (µs/span, % of the sum)`);
for (const [k, v] of Object.entries(best)) console.log(`${k.padEnd(28)} ${us(v).padStart(6)}  ${((100 * v) / total).toFixed(1).padStart(5)} %`);
console.log(`${'sum'.padEnd(28)} ${us(total).padStart(6)}   IPC ${(ipcBytes / spans).toFixed(1)} B/span, file ${(fileBytes / spans).toFixed(2)} B/span`);

// --- Writer settings ----------------------------------------------------------------------
const ipc = tableToIPC(arrow, 'stream');
// Every top-level column named: parquet-wasm 0.8 cannot name a nested leaf, so these keep the global setting.
const topLevel = (st: wasm.EnabledStatistics): Record<string, wasm.EnabledStatistics> => Object.fromEntries([...allColumns].map((c) => [c, st]));
const pruned = (st: wasm.EnabledStatistics): Record<string, wasm.EnabledStatistics> => ({ trace_id: st, start_time: st, end_time: st, service_name: st, duration_ns: st });
const variants: Array<[string, Settings]> = [
  ['traces layout (today)', today],
  ['statistics: none', { ...today, stats: wasm.EnabledStatistics.None }],
  ['statistics: chunk', { ...today, stats: wasm.EnabledStatistics.Chunk }],
  ['stats chunk, page on 5 pruned', { ...today, stats: wasm.EnabledStatistics.Chunk, columnStats: pruned(wasm.EnabledStatistics.Page) }],
  ['stats none on nested leaves only', { ...today, stats: wasm.EnabledStatistics.None, columnStats: topLevel(wasm.EnabledStatistics.Page) }],
  ['writer version 2 (data page V2)', { ...today, v2: true }],
  ['dictionary pages ≤ 64 KiB', { ...today, dictionaryPageBytes: 64 << 10 }],
  ['dictionary pages ≤ 16 KiB', { ...today, dictionaryPageBytes: 16 << 10 }],
  ['dictionary off', { ...today, dictionary: false }],
  ['UNCOMPRESSED', { ...today, codec: wasm.Compression.UNCOMPRESSED }],
  ['LZ4_RAW', { ...today, codec: wasm.Compression.LZ4_RAW }],
  ['pages 8 KiB / batch 512', { ...today, pageBytes: 8192, writeBatch: 512 }],
  ['pages 1 MiB / batch 1024', { ...today, pageBytes: 1 << 20, writeBatch: 1024 }],
  ['row groups 32,768', { ...today, rowGroup: 32_768 }],
  ['no column encodings', { ...today, encodings: false }],
];
const vbest = variants.map(() => Infinity);
const vbytes = variants.map(() => 0);
for (let r = 0; r < rounds; r++) {
  variants.forEach(([, s], i) => {
    const w = wasm.Table.fromIPCStream(ipc);
    const p = props(s, allColumns);
    vbest[i] = Math.min(vbest[i]!, cpuMs(() => (vbytes[i] = wasm.writeParquet(w, p).length)));
  });
}
console.log(`\n# writeParquet by setting (one change from the traces layout), best of ${rounds}`);
variants.forEach(([name], i) => {
  const d = ((vbest[i]! - vbest[0]!) / vbest[0]!) * 100;
  console.log(`${name.padEnd(32)} ${us(vbest[i]!).padStart(6)} µs/span ${(d >= 0 ? '+' : '') + d.toFixed(1).padStart(5)} %  ${(vbytes[i]! / spans).toFixed(2).padStart(6)} B/span`);
});

// --- Columns ------------------------------------------------------------------------------
if (perColumn) {
  const names = arrow.schema.fields.map((f) => f.name);
  const ipcs = names.map((n) => tableToIPC(arrow.select([n]), 'stream'));
  const cbest = names.map(() => Infinity);
  const cbytes = names.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    names.forEach((n, i) => {
      const w = wasm.Table.fromIPCStream(ipcs[i]!);
      const p = props(today, new Set([n]));
      cbest[i] = Math.min(cbest[i]!, cpuMs(() => (cbytes[i] = wasm.writeParquet(w, p).length)));
    });
  }
  const sum = cbest.reduce((a, b) => a + b, 0);
  console.log(`\n# writeParquet of each column alone (traces layout), best of ${rounds}; sum ${us(sum)} µs/span`);
  const rows = names.map((n, i) => [n, cbest[i]!, cbytes[i]!] as const).sort((a, b) => b[1] - a[1]);
  for (const [n, ms, bytes] of rows) console.log(`${n.padEnd(28)} ${us(ms).padStart(6)} µs/span ${((100 * ms) / sum).toFixed(1).padStart(5)} %  ${(bytes / spans).toFixed(2).padStart(6)} B/span`);
}
