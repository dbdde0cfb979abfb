/**
 * Lakes of traces for the trace-index tests and `npm run bench`, written by the real daemon
 * (in-process, one flush per file) from the bench's seeded span generator:
 * - `onePartition`: ~100k spans in one hourly partition (requests of 512 spans, one flush);
 * - `smallFiles`: many small files over hourly partitions (a day or two of sidecar flushes).
 * Same shape, same bytes: runs compare.
 */
import { Writable } from 'node:stream';
import { parseConfigText } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import type { QueryEngine } from '../../src/query/engine.js';
import { engineFromConfig } from '../../src/query/engine-from-config.js';
import { openStore } from '../../src/store/index.js';
import { traceRequests } from '../../bench/load/traces.js';

export interface LakeShape {
  /** Files to write (one flush each); every file lands in one hourly partition. */
  readonly files: number;
  readonly partitions: number;
  readonly spansPerFile: number;
  readonly seed: number;
}

export const ONE_PARTITION: LakeShape = { files: 1, partitions: 1, spansPerFile: 100_352, seed: 42 };
export const SMALL_FILES: LakeShape = { files: 500, partitions: 48, spansPerFile: 200, seed: 7 };

const BASE_MS = Date.UTC(2024, 0, 1);
const SPANS_PER_REQUEST = 512;

/** Writes a lake into `dataDir` (a local store, write log on) through a daemon; returns spans written. */
export async function writeLake(dataDir: string, shape: LakeShape, extraToml = ''): Promise<number> {
  const config = parseConfigText(`
[receivers.grpc]
endpoint = "127.0.0.1:0"
[receivers.http]
endpoint = "127.0.0.1:0"
[query]
endpoint = "127.0.0.1:0"
[storage]
local_path = ${JSON.stringify(dataDir)}
instance_id = "lake"
[buffer]
max_age_seconds = 3600
[partitioning]
max_past_hours = 0
# A lake of small files stays one: writing 500 files can outlast [compaction] interval_seconds.
[compaction]
enabled = false
${extraToml}
${extraToml.includes('[wal]') ? '' : `# Its own log: with an S3 store the default is ./wal, which test files running at once would share.\n[wal]\ndir = ${JSON.stringify(`${dataDir}-wal`)}`}
`);
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const daemon = await startDaemon(config, { logger: createLogger('silent', sink) });
  let spans = 0;
  try {
    for (let f = 0; f < shape.files; f++) {
      const hourMs = BASE_MS + (f % shape.partitions) * 3_600_000;
      // The generator picks a request's service by its index: skipping f % 8 requests gives
      // each file of a small-file lake its own service, as sidecars of different services would.
      const skip = f % 8;
      const requests = traceRequests(shape.seed * 100_003 + f * 1009, skip + Math.ceil(shape.spansPerFile / SPANS_PER_REQUEST), Math.min(shape.spansPerFile, SPANS_PER_REQUEST), hourMs).slice(skip);
      let left = shape.spansPerFile;
      for (const body of requests) {
        const n = Math.min(left, SPANS_PER_REQUEST);
        if (n <= 0) break;
        const res = await fetch(`http://127.0.0.1:${daemon.ports.http}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`writing the lake: HTTP ${res.status}`);
        left -= n;
        spans += n;
      }
      await daemon.pipeline.flush();
    }
  } finally {
    await daemon.stop();
  }
  return spans;
}

/**
 * A small two-partition lake written by the daemon under `root/data`, and a read-only query
 * engine over it (the columnar answer tests compare their paths on it).
 */
export async function smallLakeEngine(root: string): Promise<QueryEngine> {
  await writeLake(`${root}/data`, { files: 2, partitions: 2, spansPerFile: 3000, seed: 11 });
  const config = parseConfigText(`[storage]\nbackend = "local"\nlocal_path = ${JSON.stringify(`${root}/data`)}\n[partitioning]\nmax_past_hours = 0\n`);
  return engineFromConfig(config, await openStore(config, createLogger('silent'), 'test', { readOnly: true }), 'test');
}
