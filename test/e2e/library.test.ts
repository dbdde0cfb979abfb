/**
 * The library end to end: the classic connector's examples against the local store and a real
 * S3 server, hash and range partitioning checked by DuckDB (which computes the documented
 * bucket itself), schema evolution with mixed-schema reads, parallel batch writes identical to
 * serial ones, and the errors a data engineer meets.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as basicUsage from '../../examples/basic-usage.js';
import * as batchOperations from '../../examples/batch-operations.js';
import * as partitioningExample from '../../examples/partitioning.js';
import {
  BatchWriteOperation,
  ConfigError,
  HashPartitioning,
  ParquetConfig,
  ParquetSchema,
  RangePartitioning,
  S3Config,
  S3ParquetConnector,
  S3ParquetError,
  TimePartitioning,
} from '../../src/index.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { downloadAll, listKeys } from '../helpers/s3-files.js';
import { s3ClientConfig, startS3Server, type S3Server } from '../helpers/s3-server.js';

let work: string;
let server: S3Server;
let client: S3Client;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3pq-lib-'));
  server = await startS3Server();
  client = new S3Client(s3ClientConfig(server));
}, 300_000);

afterAll(async () => {
  client?.destroy();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.parquet')) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

const localEnv = (dir: string): NodeJS.ProcessEnv => ({ EXAMPLE_DATA_DIR: dir });
const s3Env = (bucket: string): NodeJS.ProcessEnv => ({
  S3_BUCKET: bucket,
  S3_ENDPOINT: server.endpoint,
  S3_PREFIX: 'telemetry-data',
  AWS_REGION: server.region,
  AWS_ACCESS_KEY_ID: server.accessKeyId,
  AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
});

/** Where an example's files can be read by DuckDB: the local dir, or a download of the bucket. */
async function exampleFiles(where: 'local' | 's3', env: NodeJS.ProcessEnv, dir: string): Promise<string> {
  if (where === 'local') return dir;
  const out = join(dir, 'download');
  await downloadAll(client, env.S3_BUCKET!, 'telemetry-data/', out);
  return join(out, 'telemetry-data');
}

describe.each(['local', 's3'] as const)('the classic examples against the %s store', (where) => {
  let env: NodeJS.ProcessEnv;
  let dir: string;

  // Each example gets an empty store of its own (a directory or a bucket), as a user's first run would.
  beforeEach(async () => {
    dir = await mkdtemp(join(work, `${where}-`));
    env = where === 'local' ? localEnv(dir) : s3Env(`examples-${randomBytes(4).toString('hex')}`);
  });

  it('basic usage: defines a schema, writes to a partition path, reads back with a filter', async () => {
    const out = await basicUsage.main(env);
    expect(out.written).toBe(2);
    expect(out.path).toMatch(/^service_name=web-service\/date=2024-01-01\/[^/]+\.parquet$/);
    expect(out.matched).toEqual([{ id: 'span_123', timestamp: '2024-01-01T00:00:00.000000Z', service_name: 'web-service', duration_ms: 150, status_code: 200 }]);
    const root = await exampleFiles(where, env, dir);
    const rows = await duckdbQuery(`SELECT id, epoch_us(timestamp) AS us, duration_ms, status_code FROM read_parquet('${root}/${out.path}') ORDER BY id`);
    expect(rows).toEqual([
      { id: 'span_123', us: '1704067200000000', duration_ms: '150', status_code: 200 },
      { id: 'span_124', us: '1704067201000000', duration_ms: '420', status_code: 500 },
    ]);
  });

  it('advanced: time-partitioned batch write on 4 threads, then a streaming read in batches of 1000', async () => {
    const out = await batchOperations.main(env);
    expect(out.partitions).toEqual(['service_name=web-service/2024-01-01/00', 'service_name=web-service/2024-01-01/01', 'service_name=web-service/2024-01-01/02']);
    expect(out.files).toBe(3);
    expect(out.batches.every((n) => n > 0 && n <= 1000)).toBe(true);
    expect(out.batches.reduce((a, b) => a + b, 0)).toBe(10_000);
    const root = await exampleFiles(where, env, dir);
    // Every record sits in the hour its timestamp says; DuckDB reads the files independently.
    const rows = await duckdbQuery(
      `SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(CASE WHEN strftime(timestamp AT TIME ZONE 'UTC', '%Y-%m-%d/%H') = regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2}/\\d{2})/[^/]+$', 1) THEN 1 ELSE 0 END) AS placed
       FROM read_parquet('${root}/service_name=web-service/*/*/*.parquet', filename = true)`,
    );
    expect(rows).toEqual([{ n: '10000', ids: '10000', placed: '10000' }]);
  });

  it('partitioning example: time, hash, range and nested layouts', async () => {
    const out = await partitioningExample.main(env);
    expect(out.time).toEqual(['partitioning-example/time/date=2024-01-01', 'partitioning-example/time/date=2024-01-02']);
    expect(out.hash).toHaveLength(8);
    expect(out.range).toEqual(['client_error', 'other', 'server_error', 'success'].map((l) => `partitioning-example/range/status_code_range=${l}`));
    expect(out.nested).toHaveLength(8);
  });
});

it('npm run example -- basic-usage runs from the command line', async () => {
  const dir = await mkdtemp(join(work, 'cli-'));
  const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'example', '--', 'basic-usage'], { env: { ...process.env, EXAMPLE_DATA_DIR: dir }, timeout: 120_000 });
  expect(stdout).toContain('Written 2 records to service_name=web-service/date=2024-01-01/');
  expect(stdout).toContain('"id":"span_123"');
  expect(await filesUnder(dir)).toHaveLength(1);
});

describe('hash and range partitioning, checked by DuckDB', () => {
  const records = Array.from({ length: 3000 }, (_, i) => ({
    timestamp: new Date(Date.UTC(2024, 4, 1, i % 24)).toISOString(),
    user_id: i % 13 === 0 ? null : `user-${i % 211}`,
    status_code: [99, 100, 200, 299, 300, 404, 499, 500, 599, 600, -1][i % 11]!,
  }));
  const schema = ParquetSchema.empty().withField('timestamp', 'timestamp', false).withField('user_id', 'string', true).withField('status_code', 'int32', false);

  it('puts every record in the bucket DuckDB computes from the documented hash, and every range where its bounds say', async () => {
    const dir = await mkdtemp(join(work, 'hash-range-'));
    const connector = new S3ParquetConnector(S3Config.local(dir), ParquetConfig.create());
    try {
      const result = await connector.batchWrite(
        BatchWriteOperation.create()
          .withSchema(schema)
          .withRecords(records)
          .withPartitioning(
            HashPartitioning.create().withField('user_id').withNumPartitions(7),
            RangePartitioning.create()
              .withField('status_code')
              .withRanges([
                [100, 200, 'info'],
                [200, 300, 'ok'],
                [300, 400, 'redirect'],
                [400, 500, 'client'],
                [500, 600, 'server'],
              ]),
          ),
      );
      expect(result.recordCount).toBe(3000);
    } finally {
      await connector.close();
    }
    const rows = await duckdbQuery(`
      WITH t AS (SELECT * FROM read_parquet('${dir}/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false))
      SELECT count(*) AS n,
        sum(CASE WHEN user_id IS NULL THEN (user_id_bucket IS NULL)::INT
                 ELSE (user_id_bucket = (CAST('0x' || substr(md5(user_id), 1, 8) AS UBIGINT) % 7)::VARCHAR)::INT END) AS hashed_right,
        sum((status_code_range = CASE WHEN status_code >= 100 AND status_code < 200 THEN 'info'
                                      WHEN status_code >= 200 AND status_code < 300 THEN 'ok'
                                      WHEN status_code >= 300 AND status_code < 400 THEN 'redirect'
                                      WHEN status_code >= 400 AND status_code < 500 THEN 'client'
                                      WHEN status_code >= 500 AND status_code < 600 THEN 'server'
                                      ELSE 'other' END)::INT) AS ranged_right,
        count(DISTINCT user_id_bucket) AS buckets,
        count(*) FILTER (WHERE status_code_range = 'other') AS others
      FROM t`);
    const outside = records.filter((r) => r.status_code < 100 || r.status_code >= 600).length;
    expect(rows).toEqual([{ n: '3000', hashed_right: '3000', ranged_right: '3000', buckets: '7', others: String(outside) }]);
  });

  it('the same hash in Node and in DuckDB for numbers and text', async () => {
    const { stableBucket } = await import('../../src/index.js');
    const [row] = await duckdbQuery(`SELECT (CAST('0x' || substr(md5('12345'), 1, 8) AS UBIGINT) % 10)::INT AS a, (CAST('0x' || substr(md5('é'), 1, 8) AS UBIGINT) % 10)::INT AS b`);
    expect([stableBucket(12345, 10), stableBucket('é', 10)]).toEqual([row!.a, row!.b]);
  });
});

describe('schema evolution', () => {
  const v1 = ParquetSchema.empty().withField('id', 'string', false).withField('count', 'int32', false).withField('note', 'string', true);
  const v2 = v1.withField('count', 'int64', true).withField('region', 'string', true).withField('score', 'decimal(10,2)', true);

  it('accepts added nullable fields, widening and required → nullable; rejects narrowing, type changes and new required fields', () => {
    const connector = new S3ParquetConnector(S3Config.local(join(work, 'unused')));
    expect(() => connector.validateSchemaCompatibility(v1, v2)).not.toThrow();
    const attempts: [ParquetSchema, RegExp][] = [
      [v1.withField('count', 'int16', false), /field "count": narrowing int32 to int16/],
      [v1.withField('count', 'string', false), /field "count": changing type int32 to string/],
      [v1.withField('note', 'string', false), /field "note": nullable → required/],
      [v1.withField('added', 'string', false), /field "added": a new field must be nullable/],
      [ParquetSchema.empty().withField('count', 'int32', false).withField('note', 'string', true), /field "id": a required field was removed/],
    ];
    for (const [next, message] of attempts) {
      let error: unknown;
      try {
        connector.validateSchemaCompatibility(v1, next);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(S3ParquetError);
      expect((error as S3ParquetError).kind).toBe('Schema');
      expect((error as Error).message).toMatch(message);
    }
  });

  it('reads files of old and new schemas in one partition together; missing columns are null (and DuckDB agrees)', async () => {
    const dir = await mkdtemp(join(work, 'evolve-'));
    const connector = new S3ParquetConnector(S3Config.local(dir));
    try {
      await connector.write({ schema: v1, records: [{ id: 'a', count: 1, note: 'old' }], partitionPath: 'p=1', fileName: 'v1' });
      await connector.write({ schema: v2, records: [{ id: 'b', count: 2n ** 40n, note: null, region: 'eu', score: '12.50' }], partitionPath: 'p=1', fileName: 'v2' });
      const { records } = await connector.read({ partitionPath: 'p=1' });
      expect(records).toEqual([
        { id: 'a', count: 1, note: 'old', region: null, score: null },
        { id: 'b', count: 2 ** 40, note: null, region: 'eu', score: 12.5 },
      ]);
      expect((await connector.read({ partitionPath: 'p=1', filter: "region IS NULL" })).records.map((r) => r.id)).toEqual(['a']);
      expect((await connector.read({ partitionPath: 'p=1', filter: 'count > 100' })).records.map((r) => r.id)).toEqual(['b']);
      await connector.write({ schema: v1.withField('count', 'string', false), records: [{ id: 'c', count: 'x', note: null }], partitionPath: 'p=2', fileName: 'bad' });
      await connector.write({ schema: v1, records: [{ id: 'd', count: 3, note: null }], partitionPath: 'p=2', fileName: 'good' });
      await expect(connector.read({ partitionPath: 'p=2' })).rejects.toThrow(/field "count" is string in p=2\/bad.parquet but int32 in p=2\/good.parquet/);
    } finally {
      await connector.close();
    }
    const rows = await duckdbQuery(`SELECT id, count::VARCHAR AS c, region FROM read_parquet('${dir}/p=1/*.parquet', union_by_name = true) ORDER BY id`);
    expect(rows).toEqual([
      { id: 'a', c: '1', region: null },
      { id: 'b', c: String(2 ** 40), region: 'eu' },
    ]);
  });
});

describe('batch writes', () => {
  const records = Array.from({ length: 12_000 }, (_, i) => ({
    timestamp: new Date(Date.UTC(2024, 0, 1, i % 4, i % 60)).toISOString(),
    service: `svc-${i % 5}`,
    value: i * 0.5,
    tags: { k: `v${i % 3}` },
    hits: [i, i + 1],
  }));

  it('parallelism 4 stores exactly the files parallelism 1 does', async () => {
    const dir = await mkdtemp(join(work, 'parallel-'));
    const connector = new S3ParquetConnector(S3Config.local(dir));
    const digests = async (base: string): Promise<string[]> =>
      Promise.all(
        (await filesUnder(join(dir, base))).map(async (f) => `${dirname(relative(join(dir, base), f))} ${createHash('sha256').update(await readFile(f)).digest('hex')}`),
      ).then((d) => d.sort());
    try {
      for (const parallelism of [1, 4]) {
        const result = await connector.batchWrite(
          BatchWriteOperation.create()
            .withRecords(records)
            .withBasePath(`p${parallelism}`)
            .withPartitioning(TimePartitioning.create().withField('timestamp'))
            .withParallelism(parallelism)
            .withBatchSize(1000),
        );
        expect(result).toMatchObject({ recordCount: 12_000, fileCount: 12 });
      }
    } finally {
      await connector.close();
    }
    const [serial, parallel] = [await digests('p1'), await digests('p4')];
    expect(serial).toHaveLength(12);
    expect(parallel).toEqual(serial);
  });

  it('stores nothing when one record does not fit, and names it', async () => {
    const dir = await mkdtemp(join(work, 'misfit-'));
    const connector = new S3ParquetConnector(S3Config.local(dir));
    const schema = ParquetSchema.empty().withField('timestamp', 'timestamp', false).withField('n', 'int32', false);
    const bad = Array.from({ length: 5000 }, (_, i) => ({ timestamp: '2024-01-01T00:00:00Z', n: i === 4321 ? 'many' : i }));
    try {
      await expect(connector.batchWrite({ schema, records: bad, parallelism: 2, batchSize: 500 })).rejects.toThrow('record 4321: field "n" expected int32, got the string "many"');
      await expect(connector.batchWrite({ records: [{ a: 1 }, { a: 'x' }] })).rejects.toThrow('record 1: field "a": conflicting types int64 and string');
      await expect(connector.write({ schema, records: [{ timestamp: '2024-01-01T00:00:00Z', n: 1, extra: true }] })).rejects.toThrow('record 0: field "extra" is not in the schema');
      await expect(connector.write({ schema, records: [{ n: 1 }] })).rejects.toThrow('record 0: field "timestamp" is required but missing or null');
      await expect(connector.write({ schema, records: [{ timestamp: '2024-01-01T00:00:00Z', n: 2 ** 31 }] })).rejects.toThrow(/out of range for int32/);
    } finally {
      await connector.close();
    }
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('writes to S3 with the same code, and the keys carry the prefix', async () => {
    const bucket = `batch-${Date.now().toString(36)}`;
    const s3 = S3Config.create()
      .withBucket(bucket)
      .withPrefix('lake')
      .withRegion(server.region)
      .withEndpoint(server.endpoint)
      .withCredentials(server.accessKeyId, server.secretAccessKey)
      .withCreateBucket();
    const connector = new S3ParquetConnector(s3, ParquetConfig.create().withCompression('zstd'));
    try {
      const result = await connector.batchWrite({ records, partitioning: [TimePartitioning.create()], parallelism: 2, batchSize: 5000 });
      expect(result.fileCount).toBe(4);
      const keys = (await listKeys(client, bucket, 'lake/')).filter((k) => k.endsWith('.parquet'));
      expect(keys.sort()).toEqual(result.paths.map((p) => `lake/${p}`).sort());
      const { records: back } = await connector.read({ partitionPath: 'date=2024-01-01/hour=02', filter: "service = 'svc-1'", selectFields: ['value', 'tags', 'hits'], limit: 3 });
      expect(back).toHaveLength(3);
      expect(back[0]).toEqual({ value: expect.any(Number), tags: { k: expect.stringMatching(/^v[0-2]$/) }, hits: [expect.any(Number), expect.any(Number)] });
      expect(connector.getS3Metrics().requestCount).toBeGreaterThan(4);
      expect(connector.getWriteMetrics()).toMatchObject({ filesWritten: 4, recordsWritten: 12_000 });
      expect(connector.getWriteMetrics().compressionRatio).toBeGreaterThan(1);
      expect(connector.getReadMetrics().queries).toBe(1);
      expect(await connector.deletePartition('date=2024-01-01/hour=02')).toBe(1);
      expect(await connector.listPartitions()).toEqual(['date=2024-01-01/hour=00', 'date=2024-01-01/hour=01', 'date=2024-01-01/hour=03']);
    } finally {
      await connector.close();
    }
  });
});

describe('clear errors', () => {
  it('rejects bad configuration with the key path, at construction', () => {
    let error: unknown;
    try {
      new S3ParquetConnector(S3Config.create().withBucket('Bad_Bucket'), ParquetConfig.create().withCompression('lzma'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as S3ParquetError).kind).toBe('Config');
    expect((error as Error).message).toMatch(/parquet\.compression/);
    expect((error as Error).message).toMatch(/s3\.bucket/);
  });

  it('refuses partition paths and file names that leave the store', async () => {
    const dir = await mkdtemp(join(work, 'traversal-'));
    const connector = new S3ParquetConnector(S3Config.local(join(dir, 'store')));
    const schema = ParquetSchema.empty().withField('a', 'string');
    try {
      for (const partitionPath of ['../escape', 'a/../../b', '%2e%2e/x', '/abs']) {
        await expect(connector.write({ schema, records: [{ a: 'x' }], partitionPath })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        await expect(connector.read({ partitionPath })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        await expect(connector.deletePartition(partitionPath)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
      await expect(connector.write({ schema, records: [{ a: 'x' }], fileName: '../x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(connector.deletePartition('')).rejects.toThrow(/refusing to delete the whole store/);
      await expect(connector.read({ partitionPath: 'nothing/here' })).rejects.toMatchObject({ kind: 'NotFound' });
      await connector.write({ schema, records: [{ a: 'x' }] });
      await expect(connector.read({ filter: 'a = ' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(connector.read({ selectFields: ['nope'] })).rejects.toThrow(/unknown field "nope"/);
    } finally {
      await connector.close();
    }
    expect(await readdir(dir)).toEqual(['store']);
  });
});
