/**
 * The shared half of the decoder A/B benches (convert-traces-ab.ts, convert-logs-ab.ts, convert-metrics-ab.ts): two
 * source trees' converters, run on the same requests in one process. First it checks that both
 * store the same thing (the Arrow IPC bytes of every partition group hash alike), then it times
 * them in interleaved rounds (CPU time of this process, so a loaded machine disturbs each side
 * alike) and prints the best and the median µs per record of each.
 */
import { createHash } from 'node:crypto';
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';

export interface Tree {
  readonly root: string;
  convert(body: Uint8Array): { groups: readonly { partition: string; batch: RecordBatch }[] };
}

/** What a tree's converter needs besides itself, from that tree's own modules. */
export interface TreeParts {
  /** `prepareRequest` then a check that the body took the one-pass path: the body to decode. */
  readonly prepared: (signal: 'traces' | 'logs' | 'metrics', body: Uint8Array) => Uint8Array;
  readonly partitioner: import('../../src/pipeline/partitioner.js').Partitioner;
  readonly promoted: ReturnType<typeof import('../../src/schema/promoted.js').parsePromoted>[];
}

/**
 * Loads `root`'s decode, partitioner and promoted-attribute modules (each tree's own: the two
 * builds never share a function, so neither warms the other's JIT). `prepared` is what the
 * daemon runs before the one-pass decoder (`prepareRequest`: the limits walk, in builds before
 * it merged into the decoder).
 */
export async function loadTreeParts(root: string, promotedKeys: readonly string[]): Promise<TreeParts> {
  const { prepareRequest } = (await import(`${root}/src/otlp/decode.ts`)) as typeof import('../../src/otlp/decode.js');
  const { Partitioner } = (await import(`${root}/src/pipeline/partitioner.ts`)) as typeof import('../../src/pipeline/partitioner.js');
  const { parsePromoted } = (await import(`${root}/src/schema/promoted.ts`)) as typeof import('../../src/schema/promoted.js');
  return {
    prepared: (signal, body) => {
      const prepared = prepareRequest(signal, 'protobuf', body) as { body?: Uint8Array };
      if (prepared.body === undefined) throw new Error(`${root}: the bench request did not take the one-pass path`);
      return prepared.body;
    },
    partitioner: new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: true }),
    promoted: promotedKeys.map(parsePromoted),
  };
}

/** The command line of an A/B bench: DIR_OLD DIR_NEW [rounds=24]. */
export function abArgs(script: string): { oldRoot: string; newRoot: string; rounds: number } {
  const [oldRoot, newRoot, roundsArg] = process.argv.slice(2);
  if (oldRoot === undefined || newRoot === undefined) throw new Error(`usage: ${script} DIR_OLD DIR_NEW [rounds]`);
  return { oldRoot, newRoot, rounds: Number(roundsArg ?? 24) };
}

/**
 * Checks `checked` store alike under both trees (exit code 1 when not), then times `timed`
 * (holding `records` records) for `rounds` interleaved rounds after two warm-up rounds.
 */
export function compareTrees(trees: readonly [Tree, Tree], checked: readonly Uint8Array[], timed: readonly Uint8Array[], records: number, rounds: number, unit: string): void {
  const digests = trees.map((t) => {
    const h = createHash('sha256');
    for (const body of checked) {
      for (const g of t.convert(body).groups) {
        h.update(g.partition);
        h.update(tableToIPC(new Table(g.batch)));
      }
    }
    return h.digest('hex');
  });
  console.log(`stored Arrow IPC: ${digests[0] === digests[1] ? 'identical' : 'DIFFERENT'} (${digests[1]!.slice(0, 16)}…)`);
  if (digests[0] !== digests[1]) process.exitCode = 1;

  const times: number[][] = [[], []];
  for (let i = 0; i < rounds + 2; i++) {
    for (let j = 0; j < 2; j++) {
      const c0 = process.cpuUsage();
      for (const body of timed) trees[j]!.convert(body);
      const c = process.cpuUsage(c0);
      if (i >= 2) times[j]!.push((c.user + c.system) / records); // the first two rounds warm the JIT
    }
  }
  trees.forEach((t, j) => {
    const s = times[j]!.sort((a, b) => a - b);
    console.log(`${t.root}: prepareRequest + one-pass → Arrow, CPU µs/${unit} best ${s[0]!.toFixed(2)}, median ${s[s.length >> 1]!.toFixed(2)}`);
  });
}
