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
 * The loops (and how CPU is counted) are bench/writer/encode-runs.ts's, shared with
 * bench/signals-encode.ts.
 */
import * as wasm from 'parquet-wasm/node';
import { DATASETS } from '../../src/schema/datasets.js';
import { sortedBenchTraces } from '../load/sorted-traces.js';
import { columnsAlone, settingsVariants, stageBreakdown, type EncodeRun } from './encode-runs.js';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const perColumn = args.includes('--columns');
const { spans, sorted } = sortedBenchTraces();
const layout = DATASETS.traces.storage;

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

const run: EncodeRun<Settings> = { sorted, rows: spans, unit: 'span', rounds, props };
const allColumns = new Set(sorted.schema.fields.map((f) => f.name));

stageBreakdown(run, today, 'encode breakdown');

// --- Writer settings ----------------------------------------------------------------------
// Every top-level column named: parquet-wasm 0.8 cannot name a nested leaf, so these keep the global setting.
const topLevel = (st: wasm.EnabledStatistics): Record<string, wasm.EnabledStatistics> => Object.fromEntries([...allColumns].map((c) => [c, st]));
const pruned = (st: wasm.EnabledStatistics): Record<string, wasm.EnabledStatistics> => ({ trace_id: st, start_time: st, service_name: st, duration_ns: st });
const variants: Array<[string, Settings]> = [
  ['traces layout (today)', today],
  ['statistics: none', { ...today, stats: wasm.EnabledStatistics.None }],
  ['statistics: chunk', { ...today, stats: wasm.EnabledStatistics.Chunk }],
  ['stats chunk, page on 4 pruned', { ...today, stats: wasm.EnabledStatistics.Chunk, columnStats: pruned(wasm.EnabledStatistics.Page) }],
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
settingsVariants(run, variants, 'one change from the traces layout');
if (perColumn) columnsAlone(run, today, 'traces layout');
