/**
 * The stage floor for `npm run bench`: bench/pipeline/stage-floor.ts in a process of its own (a
 * cold start, as a daemon's), and its table. What a record costs in the daemon's own decode,
 * sort and encode, warm and with nothing else running, is the least the daemon can spend on it:
 * the gap between this floor and the long runs' steady state is what the rest of the daemon
 * costs (HTTP, the write-ahead log, the buffers, the garbage of concurrent requests).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CPU_TARGETS } from './signals.js';

export interface StageCosts {
  /** µs of CPU per record: decode + column appends, the sort alone, the flush (sort + encode), decode + flush. */
  readonly decode: number;
  readonly sort: number;
  readonly flush: number;
  readonly total: number;
}

export interface StageFloor {
  readonly signal: 'traces' | 'logs' | 'metrics';
  readonly records: number;
  readonly rounds: number;
  /** The best round of each (the total: the best round's decode + flush). */
  readonly best: StageCosts;
  /** The first round: cold code, fresh memory. */
  readonly first: StageCosts;
}

export async function benchStageFloor(quick: boolean): Promise<StageFloor[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/pipeline/stage-floor.ts', '100000', quick ? '4' : '6', '--json'], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as StageFloor[];
}

export function stageFloorMarkdown(results: readonly StageFloor[]): string {
  const us = (v: number): string => v.toFixed(2);
  return `## The stage floor: what a record costs at best (bench/pipeline/stage-floor.ts)

The daemon's own decoder, sort and encoder on the bench loads, one flush of ~100,000 records, in one
process with no HTTP, no write-ahead log and no buffers: µs of CPU per record (every thread), the best
of ${results[0]?.rounds ?? 0} rounds, the first (cold) round in brackets. The floor is what decode + flush allow at
most; the long runs above pay the rest of the daemon on top.

| signal | records | decode + appends | sort alone | flush (sort + encode) | decode + flush | floor, per CPU-second | target (µs per record) |
|---|---|---|---|---|---|---|---|
${results
  .map((r) => {
    const floor = Math.round(1e6 / r.best.total);
    const target = CPU_TARGETS[r.signal];
    return `| ${r.signal} | ${r.records.toLocaleString('en')} | ${us(r.best.decode)} (${us(r.first.decode)}) | ${us(r.best.sort)} (${us(r.first.sort)}) | ${us(r.best.flush)} (${us(r.first.flush)}) | ${us(r.best.total)} (${us(r.first.total)}) | ${floor.toLocaleString('en')} | ≥ ${target.toLocaleString('en')} (${us(1e6 / target)}) |`;
  })
  .join('\n')}`;
}
