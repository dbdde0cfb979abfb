// Preload for the daemon (bench/gc-threads.ts): on SIGUSR2 (sent after the warm-up) start V8's
// sampling heap profiler, objects the GC already freed included (plain --heap-prof keeps only what
// is live at the end); at exit write the profile to HEAP_OUT.
const inspector = require('node:inspector');
const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');
if (isMainThread && process.env.HEAP_OUT) {
  const s = new inspector.Session();
  s.connect();
  let started = false;
  process.on('SIGUSR2', () => {
    s.post('HeapProfiler.enable');
    s.post('HeapProfiler.startSampling', { samplingInterval: Number(process.env.HEAP_INTERVAL ?? 16384), includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, (e) => { if (e) console.error(e); started = true; });
  });
  process.on('exit', () => {
    if (!started) return;
    s.post('HeapProfiler.stopSampling', (err, r) => {
      if (err) { console.error(err); return; }
      fs.writeFileSync(process.env.HEAP_OUT, JSON.stringify(r.profile));
    });
  });
}
