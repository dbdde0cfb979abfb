/**
 * The configuration of an in-process daemon over one lake directory that several daemons use in
 * turn (the schema-version lake tests: a daemon of one layout writes, the next of another layout
 * writes and reads both): its store is `<dir>/data` under a fixed instance id, no write-ahead log,
 * no telemetry, every port free, 2024 fixtures accepted, the write log settling in a second.
 * `extra` is appended TOML (a `[compaction]` or `[schema.traces]` table).
 */
import { join } from 'node:path';
import { parseConfigText, type Config } from '../../src/config/index.js';

export function lakeDaemonConfig(dir: string, extra = ''): Config {
  return parseConfigText(`
[receivers.grpc]
endpoint = "127.0.0.1:0"
[receivers.http]
endpoint = "127.0.0.1:0"
[query]
endpoint = "127.0.0.1:0"
[telemetry]
enabled = false
[storage]
local_path = ${JSON.stringify(join(dir, 'data'))}
instance_id = "lake"
[wal]
enabled = false
[partitioning]
max_past_hours = 0
[write_log]
settle_window_seconds = 1
${extra}
`);
}
