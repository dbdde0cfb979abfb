/**
 * Old against new, in one process: the one-pass logs decoder (`prepareRequest` + bytes → Arrow) of
 * two source trees (each `git archive`d into its own directory, node_modules linked), run on the
 * same seeded bench log requests (bench/load/logs-metrics.ts; convert-traces-ab.ts for traces). First it checks that both store the same thing (the Arrow IPC
 * bytes of every partition group hash alike), then it times them in interleaved rounds (CPU
 * time of this process, so a loaded machine disturbs each side alike) and prints the best and
 * the median µs per record of each.
 *
 *   npx tsx bench/pipeline/convert-logs-ab.ts DIR_OLD DIR_NEW [rounds=24]
 */
import { abArgs, compareTrees, type Tree } from './decoder-ab.js';
import { logRequests } from '../load/logs-metrics.js';

const { oldRoot, newRoot, rounds } = abArgs('convert-logs-ab.ts');
const PROMOTED = ['http.request.method', 'http.response.status_code', 'http.route'];
const RECEIVED = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;

async function load(root: string): Promise<Tree> {
  // Each tree's own modules: the two builds never share a function, so neither warms the other's JIT.
  const { convertLogsWire } = (await import(`${root}/src/pipeline/convert-logs-wire.ts`)) as typeof import('../../src/pipeline/convert-logs-wire.js');
  const { prepareRequest } = (await import(`${root}/src/otlp/decode.ts`)) as typeof import('../../src/otlp/decode.js');
  const { Partitioner } = (await import(`${root}/src/pipeline/partitioner.ts`)) as typeof import('../../src/pipeline/partitioner.js');
  const { parsePromoted } = (await import(`${root}/src/schema/promoted.ts`)) as typeof import('../../src/schema/promoted.js');
  const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: true });
  const promoted = PROMOTED.map(parsePromoted);
  return {
    root,
    // What the daemon runs: `prepareRequest` (the limits walk, in builds before it merged into the
    // decoder), then the one-pass decoder.
    convert: (body) => {
      const prepared = prepareRequest('logs', 'protobuf', body) as { body?: Uint8Array };
      if (prepared.body === undefined) throw new Error(`${root}: the bench request did not take the one-pass path`);
      return convertLogsWire(prepared.body, partitioner, promoted, RECEIVED);
    },
  };
}

const trees = [await load(oldRoot), await load(newRoot)] as const;
const timed = logRequests(42, 32, 512);
const checked = [...timed, ...logRequests(7, 8, 37)];
const records = 32 * 512;
compareTrees(trees, checked, timed, records, rounds, 'record');
