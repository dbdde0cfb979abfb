/**
 * Old against new, in one process: the one-pass traces decoder (`prepareRequest` + bytes → Arrow) of
 * two source trees (each `git archive`d into its own directory, node_modules linked), run on the
 * same seeded bench requests. First it checks that both store the same thing (the Arrow IPC
 * bytes of every partition group hash alike), then it times them in interleaved rounds (CPU
 * time of this process, so a loaded machine disturbs each side alike) and prints the best and
 * the median µs per span of each.
 *
 *   npx tsx bench/pipeline/convert-traces-ab.ts DIR_OLD DIR_NEW [rounds=24]
 */
import { abArgs, compareTrees, type Tree } from './decoder-ab.js';
import { traceRequests } from '../load/traces.js';

const { oldRoot, newRoot, rounds } = abArgs('convert-traces-ab.ts');
const PROMOTED = ['http.request.method', 'http.response.status_code', 'url.path', 'server.address'];

async function load(root: string): Promise<Tree> {
  // Each tree's own modules: the two builds never share a function, so neither warms the other's JIT.
  const { convertTracesWire } = (await import(`${root}/src/pipeline/convert-traces-wire.ts`)) as typeof import('../../src/pipeline/convert-traces-wire.js');
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
      const prepared = prepareRequest('traces', 'protobuf', body) as { body?: Uint8Array };
      if (prepared.body === undefined) throw new Error(`${root}: the bench request did not take the one-pass path`);
      return convertTracesWire(prepared.body, partitioner, promoted);
    },
  };
}

const trees = [await load(oldRoot), await load(newRoot)] as const;
const timed = traceRequests(42, 32, 512);
const checked = [...timed, ...traceRequests(7, 8, 37)];
const spans = 32 * 512;
compareTrees(trees, checked, timed, spans, rounds, 'span');
