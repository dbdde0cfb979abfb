/**
 * Breaks V8 `.cpuprofile` files (the daemon run with `--cpu-prof`, e.g. `BENCH_PROF=DIR npx tsx
 * bench/quick-ingest.ts`) down by ingest stage (bench/harness/stages.ts).
 *
 *   npx tsx bench/profile-stages.ts FILE.cpuprofile [...more]
 */
import { stageShares } from './harness/stages.js';

const { busyMs, idleMs, stages } = stageShares(process.argv.slice(2));
console.log(`busy CPU ${(busyMs / 1000).toFixed(2)} s (idle ${(idleMs / 1000).toFixed(2)} s)\n`);
console.log('| stage | ms | % of busy |\n|---|---|---|');
for (const s of stages) console.log(`| ${s.stage} | ${s.ms} | ${s.percent.toFixed(1)} |`);
