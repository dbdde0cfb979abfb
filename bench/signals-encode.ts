/**
 * `npx tsx bench/signals-encode.ts metrics|logs [rounds=5] [--columns]`: where a metrics (or logs)
 * flush's Parquet encode spends its CPU, on the bench's loads (bench/load/logs-metrics.ts: 64
 * requests, converted by the one-pass decoder into one partition and sorted by the dataset's
 * storage layout, one file as the daemon writes it with the default `[parquet]` settings).
 *
 * Then `wasm.writeParquet` under writer settings that differ from today's in one thing each
 * (statistics, dictionary, encodings of chosen columns, pages), with the bytes each gives; and
 * with `--columns`, writeParquet of each top-level column alone, so a column's share can be read
 * off. The loops (and how CPU is counted) are bench/writer/encode-runs.ts's, shared with
 * bench/writer/encode-breakdown.ts, which does the same for traces.
 */
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { prepareRequest } from '../src/otlp/decode.js';
import { convertLogsWire } from '../src/pipeline/convert-logs-wire.js';
import { convertMetricsWire } from '../src/pipeline/convert-metrics-wire.js';
import { Partitioner } from '../src/pipeline/partitioner.js';
import { sortBatches } from '../src/pipeline/sort.js';
import { defaultConfig } from '../src/config/index.js';
import { DATASETS, promotedSpecs } from '../src/schema/datasets.js';
import type { ColumnEncoding } from '../src/parquet/contract.js';
import { logRequests, metricRequests, METRICS_PER_REQUEST } from './load/logs-metrics.js';
import { LOGS_PER_REQUEST, SERIES_PER_METRIC } from './signals.js';
import { cpuMs } from './harness/cpu-time.js';
import { columnsAlone, perRow, settingsVariants, stageBreakdown, type EncodeRun } from './writer/encode-runs.js';

const args = process.argv.slice(2);
const signal = args[0] === 'logs' ? 'logs' : 'metrics';
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const perColumn = args.includes('--columns');
const layout = DATASETS[signal].storage;

// One partition (no service split) so the file holds every row of the 64 requests.
const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
// The daemon's defaults: the promoted attributes and (schema version 2) the dedicated resource columns.
const promoted = promotedSpecs(defaultConfig())[signal];
const payloads = signal === 'logs' ? logRequests(7, 64, LOGS_PER_REQUEST) : metricRequests(9, 64, SERIES_PER_METRIC);
const received = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;
const batches: RecordBatch[] = [];
for (const p of payloads) {
  const body = (prepareRequest(signal, 'protobuf', p) as { body: Uint8Array }).body;
  const converted = signal === 'logs' ? convertLogsWire(body, partitioner, promoted, received) : convertMetricsWire(body, partitioner, promoted, received);
  for (const g of converted.groups) batches.push(g.batch);
}
const sorted = sortBatches(batches, layout.sortBy);
const rows = sorted.numRows;
const unit = signal === 'logs' ? 'record' : 'point';
if (signal === 'metrics' && rows !== 64 * METRICS_PER_REQUEST * SERIES_PER_METRIC) throw new Error(`expected every point stored, got ${rows}`);
const arrow = new Table([sorted]);
const allColumns = new Set(arrow.schema.fields.map((f) => f.name));

interface Settings {
  readonly pageBytes: number;
  readonly dictionary: boolean;
  readonly stats: wasm.EnabledStatistics;
  /** Top-level columns' encodings (no dictionary), over the layout's. */
  readonly encodings: Readonly<Record<string, ColumnEncoding>>;
  /** Top-level columns written without a dictionary, their encoding the default (PLAIN). */
  readonly noDictionary?: readonly string[];
  readonly columnStats?: Readonly<Record<string, wasm.EnabledStatistics>>;
  readonly v2?: boolean;
  readonly writeBatch?: number;
}

const today: Settings = { pageBytes: 65536, dictionary: true, stats: wasm.EnabledStatistics.Page, encodings: layout.encodings };

const ENC: Record<ColumnEncoding, wasm.Encoding> = {
  PLAIN: wasm.Encoding.PLAIN,
  DELTA_BINARY_PACKED: wasm.Encoding.DELTA_BINARY_PACKED,
  DELTA_LENGTH_BYTE_ARRAY: wasm.Encoding.DELTA_LENGTH_BYTE_ARRAY,
  DELTA_BYTE_ARRAY: wasm.Encoding.DELTA_BYTE_ARRAY,
  BYTE_STREAM_SPLIT: wasm.Encoding.BYTE_STREAM_SPLIT,
};

function props(s: Settings, columns: ReadonlySet<string>): wasm.WriterProperties {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression.ZSTD)
    .setMaxRowGroupSize(100_000)
    .setDataPageSizeLimit(s.pageBytes)
    .setDictionaryEnabled(s.dictionary)
    .setStatisticsEnabled(s.stats);
  if (s.writeBatch) b = b.setWriteBatchSize(s.writeBatch);
  for (const [c, e] of Object.entries(s.encodings)) if (columns.has(c)) b = b.setColumnDictionaryEnabled(c, false).setColumnEncoding(c, ENC[e]);
  for (const c of s.noDictionary ?? []) if (columns.has(c)) b = b.setColumnDictionaryEnabled(c, false);
  for (const [c, st] of Object.entries(s.columnStats ?? {})) if (columns.has(c)) b = b.setColumnStatisticsEnabled(c, st);
  if (s.v2) b = b.setWriterVersion(wasm.WriterVersion.V2);
  return b.build();
}

const run: EncodeRun<Settings> = { sorted, rows, unit, rounds, props };
const us = (ms: number): string => perRow(run, ms);

stageBreakdown(run, today, `${signal} encode breakdown`);

// --- Writer settings ----------------------------------------------------------------------
const nullHeavy = signal === 'metrics'
  ? ['value', 'value_is_int', 'value_int', 'count', 'sum', 'min', 'max', 'exp_scale', 'exp_zero_count', 'exp_zero_threshold', 'exp_positive_offset', 'exp_negative_offset']
  : [];
const topLevel = (st: wasm.EnabledStatistics): Record<string, wasm.EnabledStatistics> => Object.fromEntries([...allColumns].map((c) => [c, st]));
const variants: Array<[string, Settings]> = [
  ['layout (today)', today],
  ['statistics: none', { ...today, stats: wasm.EnabledStatistics.None }],
  ['statistics: chunk', { ...today, stats: wasm.EnabledStatistics.Chunk }],
  ['stats none on nested leaves only', { ...today, stats: wasm.EnabledStatistics.None, columnStats: topLevel(wasm.EnabledStatistics.Page) }],
  // Chunk statistics still write the level histograms the query port reads (src/query/columns.ts); None does not.
  ['stats chunk on nested leaves only', { ...today, stats: wasm.EnabledStatistics.Chunk, columnStats: topLevel(wasm.EnabledStatistics.Page) }],
  ['dictionary off', { ...today, dictionary: false }],
  ['writer version 2', { ...today, v2: true }],
  ['pages 1 MiB', { ...today, pageBytes: 1 << 20 }],
  ['write batch 8192', { ...today, writeBatch: 8192 }],
  ['no column encodings', { ...today, encodings: {} }],
];
if (signal === 'metrics') {
  variants.push(
    ['time, start_time: DELTA', { ...today, encodings: { ...today.encodings, time: 'DELTA_BINARY_PACKED', start_time: 'DELTA_BINARY_PACKED' } }],
    ['numeric sparse cols: no dict', { ...today, noDictionary: nullHeavy }],
    ['sum/min/max: BSS', { ...today, encodings: { ...today.encodings, sum: 'BYTE_STREAM_SPLIT', min: 'BYTE_STREAM_SPLIT', max: 'BYTE_STREAM_SPLIT' } }],
    ['count, exp ints: DELTA', { ...today, encodings: { ...today.encodings, count: 'DELTA_BINARY_PACKED', exp_zero_count: 'DELTA_BINARY_PACKED', exp_scale: 'DELTA_BINARY_PACKED', exp_positive_offset: 'DELTA_BINARY_PACKED', exp_negative_offset: 'DELTA_BINARY_PACKED' } }],
  );
}
if (signal === 'logs') {
  variants.push(
    ['body: no dictionary (PLAIN)', { ...today, noDictionary: ['body'] }],
    ['body: DELTA_LENGTH_BYTE_ARRAY', { ...today, encodings: { ...today.encodings, body: 'DELTA_LENGTH_BYTE_ARRAY' } }],
    ['body: DELTA_BYTE_ARRAY', { ...today, encodings: { ...today.encodings, body: 'DELTA_BYTE_ARRAY' } }],
  );
}
settingsVariants(run, variants, "one change from today's");
if (perColumn) columnsAlone(run, today, "today's settings");

// --- Resource attributes as columns of their own --------------------------------------------
// What moving the rest of the resource attributes into columns would save in the encode: the
// same table with the `resource_attributes` map (what the default dedicated columns of schema
// version 2 leave in it; 13 keys before them) replaced by one string column per key, each
// dictionary-encoded as today's strings.
if (args.includes('--resource-columns')) {
  const map = arrow.getChild('resource_attributes')!;
  const keys = new Map<string, (string | null)[]>();
  for (let i = 0; i < rows; i++) {
    const m = map.get(i) as { toJSON(): Record<string, string | null> } | null;
    const row = m === null ? {} : m.toJSON();
    for (const [k, v] of Object.entries(row)) {
      let col = keys.get(k);
      if (col === undefined) keys.set(k, (col = new Array<string | null>(rows).fill(null)));
      col[i] = v;
    }
  }
  const { vectorFromArray, Utf8 } = await import('apache-arrow');
  const columns: Record<string, import('apache-arrow').Vector> = {};
  for (const f of arrow.schema.fields) if (f.name !== 'resource_attributes') columns[f.name] = arrow.getChild(f.name)!;
  for (const [k, v] of keys) columns[`resource_${k.replaceAll('.', '_')}`] = vectorFromArray(v, new Utf8());
  const dedicated = new Table(columns);
  const names = new Set(dedicated.schema.fields.map((f) => f.name));
  const both: Array<[string, Table, ReadonlySet<string>]> = [['map (today)', arrow, allColumns], [`${keys.size} columns`, dedicated, names]];
  const rb = both.map(() => ({ ipc: Infinity, fromIpc: Infinity, write: Infinity, ipcBytes: 0, fileBytes: 0 }));
  for (let r = 0; r < rounds; r++) {
    both.forEach(([, t, cols], i) => {
      const b = rb[i]!;
      let ipc!: Uint8Array;
      let w!: wasm.Table;
      b.ipc = Math.min(b.ipc, cpuMs(() => (ipc = tableToIPC(t, 'stream'))));
      b.fromIpc = Math.min(b.fromIpc, cpuMs(() => (w = wasm.Table.fromIPCStream(ipc))));
      const p = props(today, cols);
      b.write = Math.min(b.write, cpuMs(() => (b.fileBytes = wasm.writeParquet(w, p).length)));
      b.ipcBytes = ipc.length;
    });
  }
  console.log(`\n# resource attributes: one map or ${keys.size} string columns, best of ${rounds} (µs/${unit})`);
  both.forEach(([name], i) => {
    const b = rb[i]!;
    console.log(`${name.padEnd(16)} tableToIPC ${us(b.ipc).padStart(6)}  fromIPC ${us(b.fromIpc).padStart(6)}  writeParquet ${us(b.write).padStart(6)}  sum ${us(b.ipc + b.fromIpc + b.write).padStart(6)}  IPC ${(b.ipcBytes / rows).toFixed(1)} B, file ${(b.fileBytes / rows).toFixed(2)} B/${unit}`);
  });
}
