/** Spike: decode-only CPU of the lake's trace files with parquet-wasm, a row group at a time. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.parquet') ? [p] : [];
  });
}
const dir = process.argv[2]!;
const mode = process.argv[3] ?? 'ipc';
const batchSize = Number(process.argv[4] ?? 1e9);
for (let run = 0; run < 3; run++) {
  const cpu0 = process.cpuUsage();
  let rows = 0;
  let ipcBytes = 0;
  for (const f of files(join(dir, 'traces'))) {
    const bytes = readFileSync(f);
    const schemaOnly = wasm.readParquet(bytes, { limit: 0 });
    schemaOnly.free();
    // row group count from a metadata read
    const rgs: number = JSON.parse(JSON.stringify(0));
    void rgs;
    for (let rg = 0; ; rg++) {
      let t: wasm.Table;
      try {
        t = wasm.readParquet(bytes, { rowGroups: [rg], batchSize });
      } catch {
        break;
      }
      if (t.numBatches === 0) { t.free(); break; }
      const ipc = t.intoIPCStream();
      ipcBytes += ipc.byteLength;
      if (mode === 'arrowjs') {
        const at = tableFromIPC(ipc);
        rows += at.numRows;
      } else rows += -1;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ mode, rows, ipcMiB: +(ipcBytes / 2 ** 20).toFixed(1), cpuSeconds: (cpu.user + cpu.system) / 1e6, wasmMiB: wasm.wasmMemory().buffer.byteLength / 2 ** 20 }));
}
