// Loaded into the daemon with `node --import` by bench/outage.ts: every 100 ms it appends
// process.memoryUsage() (heap, external, arrayBuffers, RSS) as a JSON line to the file named by
// S3PQ_MEMORY_PROBE, so a peak of RSS can be split into what holds it. The timer is unref'd.
import { appendFileSync } from 'node:fs';

const file = process.env.S3PQ_MEMORY_PROBE;
if (file) {
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    appendFileSync(file, JSON.stringify({ t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }) + '\n');
  }, 100);
  timer.unref();
}
