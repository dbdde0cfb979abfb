/**
 * The daemon refuses to start when its configured schema cannot read the newest stored files
 * (a promoted attribute changed type), starts when the change is compatible (a new promoted
 * attribute), and starts anyway, with a warning, when told to.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon.js';
import { S3ParquetError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

let dir: string;
const logs: Record<string, unknown>[] = [];
const logger = createLogger('debug', new Writable({ write: (c: Buffer, _e, cb) => (c.toString().split('\n').filter(Boolean).forEach((l) => logs.push(JSON.parse(l) as Record<string, unknown>)), cb()) }));

const config = (promoted: string[], extra = '') =>
  parseConfigText(`
[receivers.grpc]
endpoint = "127.0.0.1:0"
[receivers.http]
endpoint = "127.0.0.1:0"
[query]
enabled = false
[telemetry]
enabled = false
[storage]
local_path = ${JSON.stringify(join(dir, 'data'))}
[wal]
enabled = false
[partitioning]
max_past_hours = 0
[schema]
${extra}
[schema.traces]
promoted_attributes = ${JSON.stringify(promoted)}
`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-schema-'));
  const d = await startDaemon(config(['app.count:int64']), { logger });
  const span = jsonSpan({ attributes: [{ key: 'app.count', value: { intValue: '5' } }] });
  const res = await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(jsonTraceRequest([span])) });
  expect(res.status).toBe(200);
  await d.stop();
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('refuses a promoted attribute whose type changed, naming the dataset, the file and the field', async () => {
  const attempt = startDaemon(config(['app.count:string']), { logger });
  await expect(attempt).rejects.toBeInstanceOf(S3ParquetError);
  await expect(attempt).rejects.toThrow(/the configured traces schema cannot read traces\/date=2024-01-01\/hour=00\/[^ ]+\.parquet/);
  await expect(attempt).rejects.toThrow(/field "app_count": changing type int64 to string/);
});

it('starts with a compatible change (another promoted attribute) and both files read together', async () => {
  const d = await startDaemon(config(['app.count:int64', 'app.region']), { logger });
  const span = jsonSpan({ attributes: [{ key: 'app.region', value: { stringValue: 'eu' } }, { key: 'app.count', value: { intValue: '7' } }] });
  await fetch(`http://127.0.0.1:${d.ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(jsonTraceRequest([span])) });
  await d.stop();
  const rows = await duckdbQuery(`SELECT app_count, app_region FROM read_parquet('${dir}/data/traces/**/*.parquet', union_by_name = true) ORDER BY app_count`);
  expect(rows).toEqual([
    { app_count: '5', app_region: null },
    { app_count: '7', app_region: 'eu' },
  ]);
});

it('starts despite an incompatible change when allow_incompatible_changes is set, and says so', async () => {
  const d = await startDaemon(config(['app.count:string'], 'allow_incompatible_changes = true'), { logger });
  await d.stop();
  expect(logs.some((l) => l.msg === 'incompatible schema change allowed by [schema] allow_incompatible_changes' && l.dataset === 'traces')).toBe(true);
});
