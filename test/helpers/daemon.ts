/** Starts an in-process daemon on free ports over a fresh temp directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfigText } from '../../src/config/index.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';

export interface TestDaemon extends Daemon {
  readonly dir: string;
  readonly logs: Record<string, unknown>[];
  httpUrl(path: string): string;
  queryUrl(path: string): string;
  /** /metrics, /healthz, /readyz: the query port, or the telemetry listener. */
  telemetryUrl(path: string): string;
  grpcTarget(): string;
  cleanup(): Promise<void>;
}

/**
 * `toml` is appended after the test defaults (ports 0, local store in a temp dir, no lower bound
 * on event times: the fixtures are from 2024, far outside the default 30-day window); `now` gives
 * the daemon its own clock (a writer whose clock is off).
 *
 * Flushes encode on the event loop (`encode_workers = 0`): run from the TypeScript sources, an
 * encode worker loads tsx first and took 5-15 s to start on the loaded test machine, longer than
 * the flush deadlines tests wait for. test/unit/encode-pool.test.ts and
 * test/e2e/encode-workers.test.ts cover the workers; daemons started from dist/ use the default.
 *
 * Background compaction is off: a test that counts files would otherwise race it (the
 * compaction tests turn it on).
 */
export async function startTestDaemon(toml = '', options: { now?: () => number } = {}): Promise<TestDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 's3pq-test-'));
  const base = `
[receivers.grpc]
endpoint = "127.0.0.1:0"
[receivers.http]
endpoint = "127.0.0.1:0"
[query]
endpoint = "127.0.0.1:0"
[storage]
local_path = ${JSON.stringify(join(dir, 'data'))}
instance_id = "test"
[partitioning]
max_past_hours = 0
[parquet]
encode_workers = 0
[compaction]
enabled = false
`;
  // With an S3 store the log's default is ./wal, which test files running at once would share
  // (the second daemon is refused: the log is locked). A local store keeps {local_path}/.wal.
  const wal = /^\[s3\]/m.test(toml) && !/^\[wal\]/m.test(toml) ? `\n[wal]\ndir = ${JSON.stringify(join(dir, 'wal'))}\n` : '';
  const config = parseConfigText(mergeToml(base, toml + wal));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const daemon = await startDaemon(config, { logger: createLogger('debug', sink), ...(options.now ? { now: options.now } : {}) });
  return Object.assign(Object.create(null) as object, daemon, {
    dir,
    logs,
    httpUrl: (path: string) => `http://127.0.0.1:${daemon.ports.http}${path}`,
    queryUrl: (path: string) => `http://127.0.0.1:${daemon.ports.query}${path}`,
    telemetryUrl: (path: string) => `http://127.0.0.1:${daemon.ports.telemetry}${path}`,
    grpcTarget: () => `http://127.0.0.1:${daemon.ports.grpc}`,
    cleanup: async () => {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  }) as TestDaemon;
}

/**
 * Merges two TOML documents table by table: a table in `extra` adds to (and overrides keys
 * of) the same table in `base`. Enough for test overrides; not a general TOML merger.
 */
function mergeToml(base: string, extra: string): string {
  const tables = new Map<string, Map<string, string>>();
  const read = (text: string): void => {
    let current = '';
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const header = /^\[([^\]]+)\]$/.exec(line);
      if (header) {
        current = header[1]!;
        if (!tables.has(current)) tables.set(current, new Map());
        continue;
      }
      const eq = line.indexOf('=');
      if (!tables.has(current)) tables.set(current, new Map());
      tables.get(current)!.set(line.slice(0, eq).trim(), line);
    }
  };
  read(base);
  read(extra);
  let out = '';
  for (const [name, entries] of tables) {
    if (name !== '') out += `[${name}]\n`;
    for (const line of entries.values()) out += line + '\n';
  }
  return out;
}
