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
import { abArgs, compareTrees, loadTreeParts, type Tree } from './decoder-ab.js';
import { traceRequests } from '../load/traces.js';

const { oldRoot, newRoot, rounds } = abArgs('convert-traces-ab.ts');
const PROMOTED = ['http.request.method', 'http.response.status_code', 'url.path', 'server.address'];

async function load(root: string): Promise<Tree> {
  const { convertTracesWire } = (await import(`${root}/src/pipeline/convert-traces-wire.ts`)) as typeof import('../../src/pipeline/convert-traces-wire.js');
  const { prepared, partitioner, promoted } = await loadTreeParts(root, PROMOTED);
  return { root, convert: (body) => convertTracesWire(prepared('traces', body), partitioner, promoted) };
}

const trees = [await load(oldRoot), await load(newRoot)] as const;
const timed = traceRequests(42, 32, 512);
const checked = [...timed, ...traceRequests(7, 8, 37)];
const spans = 32 * 512;
compareTrees(trees, checked, timed, spans, rounds, 'span');
