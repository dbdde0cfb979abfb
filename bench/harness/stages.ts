/**
 * A V8 `.cpuprofile` of the daemon (run with `--cpu-prof`) broken down by ingest stage: every
 * sample goes to the first stage, in the order below, that any frame of its stack belongs to (so
 * Arrow's memcpy under the sort counts as the sort, under the encoder as the encode).
 * Percentages are of the busy time (idle, and workers blocked waiting for a task, left out). `bench/profile-stages.ts` prints it for
 * files; `npm run bench` reports it for its profiled ingest run.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** Stage → a test on one frame ("function url"). Order matters: the first match wins. */
const STAGES: ReadonlyArray<readonly [string, RegExp]> = [
  ['idle', /^\(idle\) /],
  ['garbage collection', /^\(garbage collector\) /],
  ['limits walk', /\/otlp\/limits\.js$/],
  ['flush sort', /\/pipeline\/sort\.js$/],
  ['bloom + trace index', /\/parquet\/(bloom|trace-index|page-index)\.js$/],
  ['Parquet encode (wasm + Arrow IPC)', /\/parquet\/writer\.js$|parquet-wasm|\/pipeline\/encode-/],
  ['WAL append + fsync', /\/wal\//],
  ['decode + column appends', /\/pipeline\/convert-|\/schema\/|\/otlp\/(decode|wire-reader)\.js$/],
  ['flush: file write, rest', /\/pipeline\/(file-writer|pipeline|buffers)\.js$|\/store\//],
  ['HTTP + receivers', /\/receivers\/|node:_http|node:http|node:net|undici/],
  ['module loading', /node:internal\/modules|compileSourceTextModule|wrapSafe/],
];

export interface StageShare {
  readonly stage: string;
  readonly ms: number;
  /** Of the busy time of every profile given. */
  readonly percent: number;
}

/** Busy time by stage over the profiles (one per thread of the daemon), largest first. */
export function stageShares(files: readonly string[]): { busyMs: number; idleMs: number; stages: StageShare[] } {
  const busy = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const stageOf = new Map<number, string>();
    const classify = (id: number): string => {
      const known = stageOf.get(id);
      if (known !== undefined) return known;
      // A worker parked in piscina's `atomicsWaitLoop` (Atomics.wait) is blocked, not busy: the
      // profiler samples the frame all the same. Its tasks run in frames below it, so only the
      // loop's own samples are idle.
      if (byId.get(id)!.callFrame.functionName === 'atomicsWaitLoop') {
        stageOf.set(id, 'idle');
        return 'idle';
      }
      let best = STAGES.length;
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const cf = byId.get(cur)!.callFrame;
        const frame = `${cf.functionName} ${cf.url}`;
        const i = STAGES.findIndex(([, re]) => re.test(frame) || re.test(cf.url) || re.test(`${cf.functionName} `));
        if (i >= 0 && i < best) best = i;
      }
      const stage = best < STAGES.length ? STAGES[best]![0] : 'other';
      stageOf.set(id, stage);
      return stage;
    };
    for (let i = 0; i < p.samples.length; i++) {
      const t = p.timeDeltas[i] ?? 0;
      const s = classify(p.samples[i]!);
      busy.set(s, (busy.get(s) ?? 0) + t);
      if (s !== 'idle') total += t;
    }
  }
  const stages = [...busy]
    .filter(([s]) => s !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .map(([stage, t]) => ({ stage, ms: Math.round(t / 1000), percent: +((t / total) * 100).toFixed(1) }));
  return { busyMs: Math.round(total / 1000), idleMs: Math.round((busy.get('idle') ?? 0) / 1000), stages };
}
