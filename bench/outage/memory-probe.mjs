// Loaded into the daemon with `node --import` by bench/outage.ts: every 100 ms it appends
// process.memoryUsage() (heap, external, arrayBuffers, RSS) as a JSON line to the file named by
// S3PQ_MEMORY_PROBE, so a peak of RSS can be split into what holds it. The timer is unref'd.
//
// Native memory outside the heap is split too (issue 20, Node 24 drains ~60 MiB higher than
// Node 20): parquet-wasm's linear memory (`wasmMemory()`, it never shrinks), V8's code space,
// and, every 500 ms, /proc/self/smaps summed by kind — resident pages of the huge reservations
// V8 makes for wasm memories (≥ 1 GiB of address space each), of glibc's main heap (`[heap]`,
// brk), of other anonymous mappings (V8's heap pages, malloc's thread arenas, mmap'd blocks) and
// of files (code of node itself and shared libraries).
import { appendFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import v8 from 'node:v8';

const file = process.env.S3PQ_MEMORY_PROBE;
const GIB = 1024 ** 3;

/** Resident KiB of this process's mappings, summed by kind (see above). */
function smapsSplit() {
  const out = { wasmReserved: 0, brkHeap: 0, anon: 0, file: 0 };
  let kind = 'anon';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const size = Number.parseInt(m[2], 16) - Number.parseInt(m[1], 16);
      const name = m[3];
      kind = size >= GIB ? 'wasmReserved' : name === '[heap]' ? 'brkHeap' : name.startsWith('/') ? 'file' : 'anon';
      continue;
    }
    if (line.startsWith('Rss:')) out[kind] += Number(/(\d+)/.exec(line)[1]) * 1024;
  }
  return out;
}

if (file) {
  // The daemon's own instance: require's cache is shared with the daemon's import of it.
  let parquetWasm = null;
  try {
    parquetWasm = createRequire(`${process.cwd()}/`)('parquet-wasm/node');
  } catch {
    // not installed where the daemon runs: the field stays absent
  }
  let split = smapsSplit();
  let n = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    if (++n % 5 === 0) split = smapsSplit();
    const code = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'code_space');
    appendFileSync(
      file,
      JSON.stringify({
        t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
        parquetWasm: parquetWasm ? parquetWasm.wasmMemory().buffer.byteLength : undefined,
        codeSpace: code?.space_size,
        ...split,
      }) + '\n',
    );
  }, 100);
  timer.unref();
}
