/**
 * Old against new, in one process: the one-pass metrics decoder (`prepareRequest` + bytes →
 * Arrow) of two source trees (each `git archive`d into its own directory, node_modules linked),
 * run on the same seeded bench metric requests (bench/load/logs-metrics.ts: sums, gauges,
 * histograms with exemplars, exponential histograms, summaries). First it checks that both store
 * the same thing (the Arrow IPC bytes of every partition group hash alike), then it times them
 * in interleaved rounds and prints the best and the median µs per data point of each.
 *
 *   npx tsx bench/pipeline/convert-metrics-ab.ts DIR_OLD DIR_NEW [rounds=24]
 *
 * `EXEMPLARS=N`: the exemplar-heavy variant of the load (N exemplars on every histogram and
 * exponential histogram point; bench/load/logs-metrics.ts).
 */
import { abArgs, compareTrees, loadTreeParts, type Tree } from './decoder-ab.js';
import { metricRequests, METRICS_PER_REQUEST } from '../load/logs-metrics.js';

const { oldRoot, newRoot, rounds } = abArgs('convert-metrics-ab.ts');
const PROMOTED = ['http.request.method', 'http.response.status_code', 'http.route'];
const RECEIVED = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;
const SERIES = 100;

async function load(root: string): Promise<Tree> {
  const { convertMetricsWire } = (await import(`${root}/src/pipeline/convert-metrics-wire.ts`)) as typeof import('../../src/pipeline/convert-metrics-wire.js');
  const { prepared, partitioner, promoted } = await loadTreeParts(root, PROMOTED);
  return { root, convert: (body) => convertMetricsWire(prepared('metrics', body), partitioner, promoted, RECEIVED) };
}

const trees = [await load(oldRoot), await load(newRoot)] as const;
const exemplars = process.env.EXEMPLARS === undefined ? undefined : Number(process.env.EXEMPLARS);
const timed = metricRequests(42, 24, SERIES, undefined, exemplars);
const checked = [...timed, ...metricRequests(7, 8, 13, undefined, exemplars)];
compareTrees(trees, checked, timed, 24 * METRICS_PER_REQUEST * SERIES, rounds, 'point');
