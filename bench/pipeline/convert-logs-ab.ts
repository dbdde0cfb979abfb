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
import { abArgs, compareTrees, loadTreeParts, type Tree } from './decoder-ab.js';
import { logRequests } from '../load/logs-metrics.js';

const { oldRoot, newRoot, rounds } = abArgs('convert-logs-ab.ts');
const PROMOTED = ['http.request.method', 'http.response.status_code', 'http.route'];
const RECEIVED = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;

async function load(root: string): Promise<Tree> {
  const { convertLogsWire } = (await import(`${root}/src/pipeline/convert-logs-wire.ts`)) as typeof import('../../src/pipeline/convert-logs-wire.js');
  const { prepared, partitioner, promoted } = await loadTreeParts(root, PROMOTED);
  return { root, convert: (body) => convertLogsWire(prepared('logs', body), partitioner, promoted, RECEIVED) };
}

const trees = [await load(oldRoot), await load(newRoot)] as const;
const timed = logRequests(42, 32, 512);
const checked = [...timed, ...logRequests(7, 8, 37)];
const records = 32 * 512;
compareTrees(trees, checked, timed, records, rounds, 'record');
