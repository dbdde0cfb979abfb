/**
 * The broad `select *` of issue 18 without the daemon: the engine and `execute` (what a query
 * worker runs) in this process over a local lake, timed by CPU, the answer's bytes counted and
 * dropped. For profiling (`node --cpu-prof --import tsx bench/query/broad-read.ts …`) and for
 * before → after numbers of the serialisers.
 *
 *   npx tsx bench/query/broad-read.ts <dataDir> [ndjson|json|arrow|decode] [runs=3]
 *
 * `decode` reads and decodes the columns without serialising them: the floor the serialisers
 * stand on.
 */
import { parseConfigText } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { emptyStats } from '../../src/query/engine.js';
import { engineFromConfig } from '../../src/query/engine-from-config.js';
import { execute } from '../../src/query/pool/execute.js';
import { openStore } from '../../src/store/index.js';

const dataDir = process.argv[2];
const format = (process.argv[3] ?? 'ndjson') as 'ndjson' | 'json' | 'arrow' | 'decode';
const runs = Number(process.argv[4] ?? 3);
if (!dataDir) throw new Error('usage: broad-read.ts <dataDir> [ndjson|json|arrow] [runs]');
const config = parseConfigText(`[storage]\nbackend = "local"\nlocal_path = ${JSON.stringify(dataDir)}\n[partitioning]\nmax_past_hours = 0\n`);
const store = await openStore(config, createLogger('silent'), 'bench', { readOnly: true });
const engine = engineFromConfig(config, store, 'bench');
for (let i = 0; i < runs; i++) {
  const stats = emptyStats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  if (format === 'decode') for await (const b of engine.queryColumns({ dataset: 'traces' }, stats).batches) bytes += b.rows.length * 0;
  else for await (const b of execute(engine, { kind: 'query', q: { dataset: 'traces' }, format }, stats)) bytes += b.byteLength;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ format, rows: stats.rows_returned, mib: +(bytes / 2 ** 20).toFixed(1), ms: Math.round(performance.now() - t0), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2) }));
}
