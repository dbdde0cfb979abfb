/**
 * `npx tsx bench/traces-layouts.ts [rounds=5] [--small]`: candidate traces storage layouts
 * (row-group rows, page bytes, write-batch rows) side by side, so one can be chosen by what a
 * sidecar pays on every flush against what a lookup pays (issue 19):
 *
 * 1. writeParquet CPU and file bytes per span on the bench's realistic load (the sorted file of
 *    bench/load/sorted-traces.ts, 32,768 spans), best of `rounds`, candidates interleaved;
 * 2. the one-partition lake of ~100k spans (test/helpers/lake.ts, written by the daemon in this
 *    process under each layout), and with `--small` also the 500-file lake: a trace-id lookup's
 *    CPU, wall time and bytes read, and the selective and broad filters' CPU and wall time, all
 *    through the query engine on a local store (no HTTP), best of `rounds` per query with the
 *    candidates interleaved so a load spike on this shared machine hits them alike.
 *
 * Lookup CPU on this shared machine moves by ±30 % between runs, so each lookup's page cost is
 * also counted exactly: from each file's offset index, the data pages of every leaf column that
 * overlap the trace's rows (a reader using the offset index decodes those and no others), as
 * rows (summed over leaves) and compressed bytes.
 *
 * Every candidate's lookups and filters must return the same rows as the first one's: a layout
 * changes bytes only.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { parquetMetadata, readOffsetIndex } from 'hyparquet';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wasm from 'parquet-wasm/node';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseConfigText } from '../src/config/index.js';
import type { StorageLayout } from '../src/parquet/storage-layout.js';
import { engineFromConfig } from '../src/query/engine-from-config.js';
import { emptyStats, type QueryEngine, type QueryOptions } from '../src/query/engine.js';
import { DATASETS } from '../src/schema/datasets.js';
import { LocalStore } from '../src/store/index.js';
import { ONE_PARTITION, SMALL_FILES, writeLake, type LakeShape } from '../test/helpers/lake.js';
import { rng } from './load/traces.js';
import { sortedBenchTraces } from './load/sorted-traces.js';
import { settingsVariants, type EncodeRun } from './writer/encode-runs.js';

interface Candidate {
  readonly name: string;
  readonly rowGroupRows: number;
  readonly pageBytes: number;
  readonly writeBatchRows: number;
}

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const withSmall = args.includes('--small');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');

const K = 1024;
const ALL: Candidate[] = [
  { name: '8k rg / 4 KiB / 256', rowGroupRows: 8192, pageBytes: 4 * K, writeBatchRows: 256 },
  { name: '8k rg / 8 KiB / 256', rowGroupRows: 8192, pageBytes: 8 * K, writeBatchRows: 256 },
  { name: '8k rg / 8 KiB / 512', rowGroupRows: 8192, pageBytes: 8 * K, writeBatchRows: 512 },
  { name: '8k rg / 16 KiB / 256', rowGroupRows: 8192, pageBytes: 16 * K, writeBatchRows: 256 },
  { name: '8k rg / 16 KiB / 512', rowGroupRows: 8192, pageBytes: 16 * K, writeBatchRows: 512 },
  { name: '8k rg / 32 KiB / 512', rowGroupRows: 8192, pageBytes: 32 * K, writeBatchRows: 512 },
  { name: '8k rg / 32 KiB / 256', rowGroupRows: 8192, pageBytes: 32 * K, writeBatchRows: 256 },
  { name: '8k rg / 64 KiB / 256', rowGroupRows: 8192, pageBytes: 64 * K, writeBatchRows: 256 },
  { name: '8k rg / 1 MiB / 256', rowGroupRows: 8192, pageBytes: K * K, writeBatchRows: 256 },
  { name: '8k rg / 64 KiB / 128', rowGroupRows: 8192, pageBytes: 64 * K, writeBatchRows: 128 },
  { name: '8k rg / 64 KiB / 1024', rowGroupRows: 8192, pageBytes: 64 * K, writeBatchRows: 1024 },
  { name: '8k rg / 1 MiB / 1024', rowGroupRows: 8192, pageBytes: K * K, writeBatchRows: 1024 },
  { name: '32k rg / 16 KiB / 512', rowGroupRows: 32_768, pageBytes: 16 * K, writeBatchRows: 512 },
  { name: '32k rg / 64 KiB / 1024', rowGroupRows: 32_768, pageBytes: 64 * K, writeBatchRows: 1024 },
  { name: '32k rg / 1 MiB / 1024', rowGroupRows: 32_768, pageBytes: K * K, writeBatchRows: 1024 },
];
const candidates = only ? ALL.filter((_, i) => only.includes(String(i))) : ALL;

// The layout the daemon uses, as of this tree: the baseline's settings must be the first candidate's.
const layout = DATASETS.traces.storage;
console.log(`TRACES_STORAGE in this tree: ${layout.rowGroupRows} rows / ${layout.pageBytes} B / ${layout.writeBatchRows} rows`);

// --- 1. writeParquet CPU and bytes -------------------------------------------------------
const { spans, sorted } = sortedBenchTraces();
const ENC: Record<string, wasm.Encoding> = {
  DELTA_LENGTH_BYTE_ARRAY: wasm.Encoding.DELTA_LENGTH_BYTE_ARRAY,
  DELTA_BINARY_PACKED: wasm.Encoding.DELTA_BINARY_PACKED,
};
// The daemon's writer properties (src/parquet/writer.ts with the `[parquet]` defaults) under candidate `c`.
function props(c: Candidate, columns: ReadonlySet<string>): wasm.WriterProperties {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression.ZSTD)
    .setMaxRowGroupSize(c.rowGroupRows)
    .setDataPageSizeLimit(c.pageBytes)
    .setWriteBatchSize(c.writeBatchRows)
    .setDictionaryEnabled(true)
    .setStatisticsEnabled(wasm.EnabledStatistics.Page);
  for (const [col, e] of Object.entries(layout.encodings)) if (columns.has(col)) b = b.setColumnDictionaryEnabled(col, false).setColumnEncoding(col, ENC[e]!);
  return b.build();
}
const run: EncodeRun<Candidate> = { sorted, rows: spans, unit: 'span', rounds, props };
settingsVariants(run, candidates.map((c) => [c.name, c] as const), 'traces layout candidates');

// --- 2. lakes: lookups and filters ----------------------------------------------------------
interface Lake {
  readonly candidate: Candidate;
  readonly dir: string;
  readonly engine: QueryEngine;
  readonly bytes: number;
}

async function treeBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(join(dir, 'traces'), { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.parquet')) n += (await stat(join(e.parentPath, e.name))).size;
  return n;
}

/** Sets the traces layout the in-process daemon writes with (the dataset table is read at each flush). */
function useLayout(c: Candidate): void {
  const l = layout as { -readonly [K in keyof StorageLayout]: StorageLayout[K] };
  l.rowGroupRows = c.rowGroupRows;
  l.pageBytes = c.pageBytes;
  l.writeBatchRows = c.writeBatchRows;
}
const original = { rowGroupRows: layout.rowGroupRows!, pageBytes: layout.pageBytes!, writeBatchRows: layout.writeBatchRows!, name: 'original' };

const SELECT = ['trace_id', 'span_id', 'name', 'duration_ns'];
const FILTERS: Array<[string, QueryOptions]> = [
  ['selective filter', { dataset: 'traces', filter: "service_name = 'payment' AND status_code = 'ERROR'", select: SELECT }],
  ['broad filter', { dataset: 'traces', filter: 'duration_ns > 10000000', select: SELECT }],
];

async function measureLake(title: string, shape: LakeShape, root: string): Promise<void> {
  const lakes: Lake[] = [];
  for (const c of candidates) {
    useLayout(c);
    const dir = join(root, `${shape.files}-${lakes.length}`, 'data');
    const t = performance.now();
    // `[parquet] page_size` (default 64 KiB) caps the layout's pages: raised so 1 MiB candidates get 1 MiB.
    await writeLake(dir, shape, '[parquet]\npage_size = 1048576\n');
    console.error(`${title}: wrote ${c.name} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const engine = engineFromConfig(parseConfigText(`[storage]\nlocal_path = ${JSON.stringify(dir)}\n[partitioning]\nmax_past_hours = 0\n`), new LocalStore(dir), 'bench');
    lakes.push({ candidate: c, dir, engine, bytes: await treeBytes(dir) });
  }
  useLayout(original);

  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const all = (await conn.runAndReadAll(`SELECT DISTINCT trace_id FROM read_parquet('${lakes[0]!.dir}/traces/**/*.parquet') ORDER BY trace_id`)).getRowObjectsJson().map((r) => String(r.trace_id));
  conn.closeSync();
  db.closeSync();
  const r = rng(shape.seed);
  const ids = Array.from({ length: 12 }, () => all[Math.floor(r() * all.length)]!);
  const queries: Array<[string, QueryOptions[]]> = [['lookup', ids.map((id) => ({ dataset: 'traces', filter: `trace_id = '${id}'` }))], ...FILTERS.map(([n, q]) => [n, [q]] as [string, QueryOptions[]])];

  // The exact page cost of each lookup: pages overlapping the trace's rows, per leaf column.
  async function pageCost(dir: string): Promise<{ rows: number; bytes: number }> {
    const db2 = await DuckDBInstance.create(':memory:');
    const c2 = await db2.connect();
    let rows = 0;
    let bytes = 0;
    const files = new Map<string, ReturnType<typeof parquetMetadata> & { buf: ArrayBuffer }>();
    for (const id of ids) {
      const hits = (await c2.runAndReadAll(`SELECT filename, min(file_row_number) AS a, max(file_row_number) AS b FROM read_parquet('${dir}/traces/**/*.parquet', filename = true, file_row_number = true) WHERE trace_id = '${id}' GROUP BY filename`)).getRowObjectsJson();
      for (const h of hits) {
        const name = String(h.filename);
        if (!files.has(name)) {
          const b = await readFile(name);
          const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          files.set(name, Object.assign(parquetMetadata(buf), { buf }));
        }
        const f = files.get(name)!;
        const [a, b] = [Number(h.a), Number(h.b)];
        let start = 0;
        for (const rg of f.row_groups) {
          const n = Number(rg.num_rows);
          if (b >= start && a < start + n) {
            for (const col of rg.columns) {
              const view = new DataView(f.buf, Number(col.offset_index_offset), col.offset_index_length!);
              const pages = readOffsetIndex({ view, offset: 0 }).page_locations;
              pages.forEach((p, i) => {
                const first = start + Number(p.first_row_index);
                const last = i + 1 < pages.length ? start + Number(pages[i + 1]!.first_row_index) - 1 : start + n - 1;
                if (last >= a && first <= b) {
                  rows += last - first + 1;
                  bytes += p.compressed_page_size;
                }
              });
            }
          }
          start += n;
        }
      }
    }
    c2.closeSync();
    db2.closeSync();
    return { rows: rows / ids.length, bytes: bytes / ids.length };
  }
  const cost = new Map<Lake, { rows: number; bytes: number }>();
  for (const l of lakes) cost.set(l, await pageCost(l.dir));

  async function once(engine: QueryEngine, qs: readonly QueryOptions[]): Promise<{ cpu: number; wall: number; rows: number; bytes: number; requests: number }> {
    // One stats object per query: the engine sets (not adds) its read counters when a query ends.
    const stats = qs.map(() => emptyStats());
    let rows = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < qs.length; i++) for await (const _ of engine.query(qs[i]!, stats[i])) rows++;
    const wall = performance.now() - t0;
    const u = process.cpuUsage(c0);
    const sum = (f: (s: (typeof stats)[number]) => number): number => stats.reduce((n, s) => n + f(s), 0) / qs.length;
    return { cpu: (u.user + u.system) / 1000 / qs.length, wall: wall / qs.length, rows: rows / qs.length, bytes: sum((s) => s.bytes_read), requests: sum((s) => s.read_requests) };
  }
  // Warm each engine (footers, page indexes, write log) with lookups outside the measured ids.
  for (const l of lakes) await once(l.engine, all.slice(0, 3).map((id) => ({ dataset: 'traces', filter: `trace_id = '${id}'` })));

  type Best = { cpu: number; wall: number; rows: number; bytes: number; requests: number };
  const best = new Map<string, Best>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, qs] of queries) {
      // Alternate the candidates' order each round.
      const order = round % 2 === 0 ? lakes : [...lakes].reverse();
      for (const l of order) {
        const m = await once(l.engine, qs);
        const key = `${name}|${l.candidate.name}`;
        const b = best.get(key);
        best.set(key, b ? { ...m, cpu: Math.min(b.cpu, m.cpu), wall: Math.min(b.wall, m.wall) } : m);
      }
    }
  }
  console.log(`\n# ${title}: ${ids.length} lookups (mean per lookup), filters; best of ${rounds}; query engine in-process, local store`);
  console.log(`| layout | lake MiB | lookup CPU ms | lookup wall ms | lookup bytes read | lookup reads | lookup pages: rows (all leaves) / KB | selective CPU / wall ms | broad CPU / wall ms |`);
  console.log(`|---|---|---|---|---|---|---|---|---|`);
  for (const l of lakes) {
    const k = (n: string): Best => best.get(`${n}|${l.candidate.name}`)!;
    const ref = (n: string): Best => best.get(`${n}|${lakes[0]!.candidate.name}`)!;
    for (const [n] of queries) if (k(n).rows !== ref(n).rows) throw new Error(`${l.candidate.name} ${n}: ${k(n).rows} rows, ${ref(n).rows} under ${lakes[0]!.candidate.name}`);
    const lu = k('lookup');
    const s = k('selective filter');
    const b = k('broad filter');
    console.log(
      `| ${l.candidate.name} | ${(l.bytes / 2 ** 20).toFixed(2)} | ${lu.cpu.toFixed(1)} | ${lu.wall.toFixed(1)} | ${Math.round(lu.bytes).toLocaleString('en')} | ${lu.requests.toFixed(1)} | ${Math.round(cost.get(l)!.rows).toLocaleString('en')} / ${(cost.get(l)!.bytes / 1000).toFixed(1)} | ${s.cpu.toFixed(0)} / ${s.wall.toFixed(0)} | ${b.cpu.toFixed(0)} / ${b.wall.toFixed(0)} |`,
    );
  }
}

const root = await mkdtemp(join(tmpdir(), 's3pq-layouts-'));
try {
  await measureLake('one partition, ~100k spans', ONE_PARTITION, root);
  if (withSmall) await measureLake('500 files, 48 hourly partitions', SMALL_FILES, root);
} finally {
  await rm(root, { recursive: true, force: true });
}
