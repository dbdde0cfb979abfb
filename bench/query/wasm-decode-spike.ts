/**
 * Decode-only CPU of a lake's trace files with parquet-wasm, a row group at a time (the spike
 * behind src/query/columnar/wasm-arrow.ts): `ipc` decodes to Arrow IPC; `arrowjs` also reads
 * the IPC back with apache-arrow (what an NDJSON writer over Arrow buffers would start from).
 * Compare with `bench/query/broad-read.ts <lake> decode` (hyparquet).
 *
 *   npx tsx bench/query/wasm-decode-spike.ts <dataDir> [ipc|arrowjs]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import * as wasm from 'parquet-wasm/node';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.parquet') ? [p] : [];
  });
}
const dir = process.argv[2];
const mode = process.argv[3] ?? 'ipc';
if (!dir) throw new Error('usage: wasm-decode-spike.ts <dataDir> [ipc|arrowjs]');
for (let run = 0; run < 3; run++) {
  const cpu0 = process.cpuUsage();
  let rows = 0;
  let ipcBytes = 0;
  for (const f of files(join(dir, 'traces'))) {
    const bytes = readFileSync(f);
    const groups = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).row_groups;
    for (let g = 0; g < groups.length; g++) {
      const ipc = wasm.readParquet(bytes, { rowGroups: [g], batchSize: Number(groups[g]!.num_rows) }).intoIPCStream();
      ipcBytes += ipc.byteLength;
      rows += mode === 'arrowjs' ? tableFromIPC(ipc).numRows : Number(groups[g]!.num_rows);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ mode, rows, ipcMiB: +(ipcBytes / 2 ** 20).toFixed(1), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2), wasmMiB: +(wasm.wasmMemory().buffer.byteLength / 2 ** 20).toFixed(1) }));
}
