/**
 * The measuring loops of the encode breakdowns (bench/writer/encode-breakdown.ts for traces,
 * bench/signals-encode.ts for metrics and logs): each tool builds its sorted file and its writer
 * settings; these loops time the stages, the settings variants and each column alone, the same
 * way for every signal.
 *
 * CPU is process user+system of the measured call alone, best of `rounds` (rounds interleave
 * the variants, so a load spike hits them alike).
 */
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { cpuMs } from '../harness/cpu-time.js';


/** What a breakdown measures: one sorted batch (a file as the daemon writes it) and its writer settings. */
export interface EncodeRun<S> {
  readonly sorted: RecordBatch;
  /** Records in the file, and what one is called (span, point, record). */
  readonly rows: number;
  readonly unit: string;
  readonly rounds: number;
  /** The writer properties of settings `s` for a file of `columns` (top-level names). */
  readonly props: (s: S, columns: ReadonlySet<string>) => wasm.WriterProperties;
}

/** µs per record of `ms`. */
export function perRow(run: { readonly rows: number }, ms: number): string {
  return ((ms * 1000) / run.rows).toFixed(2);
}

/** Arrow table, `tableToIPC`, copy into wasm, `writeParquet`: best of `rounds` each, printed as µs per record and share. */
export function stageBreakdown<S>(run: EncodeRun<S>, today: S, title: string): void {
  const best = { table: Infinity, ipc: Infinity, fromIpc: Infinity, write: Infinity };
  let ipcBytes = 0;
  let fileBytes = 0;
  const allColumns = new Set(run.sorted.schema.fields.map((f) => f.name));
  for (let r = 0; r < run.rounds; r++) {
    let t!: Table;
    let ipc!: Uint8Array;
    let w!: wasm.Table;
    best.table = Math.min(best.table, cpuMs(() => (t = new Table([run.sorted]))));
    best.ipc = Math.min(best.ipc, cpuMs(() => (ipc = tableToIPC(t, 'stream'))));
    best.fromIpc = Math.min(best.fromIpc, cpuMs(() => (w = wasm.Table.fromIPCStream(ipc))));
    const p = run.props(today, allColumns);
    best.write = Math.min(best.write, cpuMs(() => (fileBytes = wasm.writeParquet(w, p).length)));
    ipcBytes = ipc.length;
  }
  const total = best.table + best.ipc + best.fromIpc + best.write;
  console.log(`# ${title}, ${run.rows} ${run.unit}s, best of ${run.rounds} (µs/${run.unit}, % of the sum)`);
  for (const [k, v] of Object.entries(best)) console.log(`${k.padEnd(28)} ${perRow(run, v).padStart(6)}  ${((100 * v) / total).toFixed(1).padStart(5)} %`);
  console.log(`${'sum'.padEnd(28)} ${perRow(run, total).padStart(6)}   IPC ${(ipcBytes / run.rows).toFixed(1)} B/${run.unit}, file ${(fileBytes / run.rows).toFixed(2)} B/${run.unit}`);
}

/** writeParquet under each of `variants` (the first is the baseline), with the change and the bytes each gives. */
export function settingsVariants<S>(run: EncodeRun<S>, variants: ReadonlyArray<readonly [string, S]>, title: string): void {
  const ipc = tableToIPC(new Table([run.sorted]), 'stream');
  const allColumns = new Set(run.sorted.schema.fields.map((f) => f.name));
  const best = variants.map(() => Infinity);
  const bytes = variants.map(() => 0);
  for (let r = 0; r < run.rounds; r++) {
    variants.forEach(([, s], i) => {
      const w = wasm.Table.fromIPCStream(ipc);
      const p = run.props(s, allColumns);
      best[i] = Math.min(best[i]!, cpuMs(() => (bytes[i] = wasm.writeParquet(w, p).length)));
    });
  }
  console.log(`\n# writeParquet by setting (${title}), best of ${run.rounds}`);
  variants.forEach(([name], i) => {
    const d = ((best[i]! - best[0]!) / best[0]!) * 100;
    console.log(`${name.padEnd(32)} ${perRow(run, best[i]!).padStart(6)} µs/${run.unit} ${(d >= 0 ? '+' : '') + d.toFixed(1).padStart(5)} %  ${(bytes[i]! / run.rows).toFixed(2).padStart(6)} B/${run.unit}`);
  });
}

/** writeParquet of each top-level column alone under `today`, largest first, so a column's share can be read off. */
export function columnsAlone<S>(run: EncodeRun<S>, today: S, title: string): void {
  const arrow = new Table([run.sorted]);
  const names = arrow.schema.fields.map((f) => f.name);
  const ipcs = names.map((n) => tableToIPC(arrow.select([n]), 'stream'));
  const best = names.map(() => Infinity);
  const bytes = names.map(() => 0);
  for (let r = 0; r < run.rounds; r++) {
    names.forEach((n, i) => {
      const w = wasm.Table.fromIPCStream(ipcs[i]!);
      const p = run.props(today, new Set([n]));
      best[i] = Math.min(best[i]!, cpuMs(() => (bytes[i] = wasm.writeParquet(w, p).length)));
    });
  }
  const sum = best.reduce((a, b) => a + b, 0);
  console.log(`\n# writeParquet of each column alone (${title}), best of ${run.rounds}; sum ${perRow(run, sum)} µs/${run.unit}`);
  const ordered = names.map((n, i) => [n, best[i]!, bytes[i]!] as const).sort((a, b) => b[1] - a[1]);
  for (const [n, ms, b] of ordered) console.log(`${n.padEnd(28)} ${perRow(run, ms).padStart(6)} µs/${run.unit} ${((100 * ms) / sum).toFixed(1).padStart(5)} %  ${(b / run.rows).toFixed(2).padStart(6)} B/${run.unit}`);
}
