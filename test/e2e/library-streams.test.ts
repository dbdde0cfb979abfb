/**
 * The library as a stream (issue 10): a writer fed through `toStream()` with a small memory
 * limit (backpressure keeps the buffered data flat, DuckDB finds every record), and incremental
 * reads through the write log with two writers whose clocks differ.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetSchema, S3Config, S3ParquetConnector, TimePartitioning } from '../../src/index.js';
import { duckdbQuery } from '../helpers/duckdb.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3pq-streams-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const schema = ParquetSchema.empty().withField('timestamp', 'timestamp', false).withField('id', 'int64', false).withField('message', 'string', false).withField('level', 'string', true);

describe('createWriter().toStream()', () => {
  it('pipes 100k records with a 1 MiB memory limit: buffered data stays flat and every record lands', async () => {
    const dir = join(work, 'stream');
    const connector = new S3ParquetConnector(S3Config.local(dir));
    const writer = connector.createWriter({
      dataset: 'events',
      schema,
      partitioning: [TimePartitioning.create().withGranularity('hour')],
      maxRows: 50_000,
      maxAgeMs: 60_000,
      memoryLimitBytes: 1024 * 1024,
    });
    const TOTAL = 100_000;
    let generated = 0;
    let maxLead = 0; // records generated but not yet in a stored file
    function* source(): Generator<Record<string, unknown>> {
      for (let i = 0; i < TOTAL; i++) {
        maxLead = Math.max(maxLead, generated - connector.getWriteMetrics().recordsWritten);
        generated++;
        yield { timestamp: new Date(Date.UTC(2024, 5, 1, i % 3, 0, 0, i % 1000)).toISOString(), id: i, message: `request ${i} handled in ${i % 97} ms`, level: i % 10 === 0 ? 'warn' : null };
      }
    }
    await pipeline(Readable.from(source()), writer.toStream());
    await connector.close();

    // The buffers never held much more than the limit (one write's records beyond it at most) …
    expect(writer.peakBufferedBytes).toBeLessThan(2 * 1024 * 1024);
    // … so the producer was held back: it never ran far ahead of what reached the store.
    expect(maxLead).toBeLessThan(30_000);
    expect(connector.getWriteMetrics().filesWritten).toBeGreaterThan(3);
    const rows = await duckdbQuery(`SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi FROM read_parquet('${dir}/events/*/*/*.parquet')`);
    expect(rows).toEqual([{ n: '100000', ids: '100000', lo: '0', hi: '99999' }]);
  });

  it('refuses a misfit record with its index and keeps the writer usable', async () => {
    const connector = new S3ParquetConnector(S3Config.local(join(work, 'misfit')));
    const writer = connector.createWriter({ dataset: 'events', schema });
    await expect(writer.write([{ timestamp: '2024-01-01T00:00:00Z', id: 1, message: 'ok' }, { timestamp: 'x', id: 2, message: 'bad' }])).rejects.toThrow(
      'record 1: field "timestamp" expected timestamp_us',
    );
    await writer.write({ timestamp: '2024-01-01T00:00:00Z', id: 3, message: 'ok' });
    await writer.close();
    await expect(writer.write({ timestamp: '2024-01-01T00:00:00Z', id: 4, message: 'late' })).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    expect((await connector.read({ partitionPath: 'events' })).records.map((r) => r.id)).toEqual([3]);
    expect(() => connector.createWriter({ dataset: '../up', schema })).toThrow(/plain folder name/);
    await connector.close();
  });
});

describe('readIncremental', () => {
  it('gives a consumer every record exactly once, across two writers and a clock that runs 20 s behind', async () => {
    const dir = join(work, 'incremental');
    let now = Date.UTC(2024, 6, 1, 12, 0, 0);
    const tick = (ms: number): void => {
      now += ms;
    };
    const fast = new S3ParquetConnector(S3Config.local(dir), undefined, { instanceId: 'writer-a', now: () => now });
    const slow = new S3ParquetConnector(S3Config.local(dir), undefined, { instanceId: 'writer-b', now: () => now - 20_000 });
    const consumer = new S3ParquetConnector(S3Config.local(dir), undefined, { instanceId: 'consumer', now: () => now });
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ timestamp: new Date(now).toISOString(), id: from + i, message: `m${from + i}`, level: null }));
    const seen: number[] = [];
    const read = async (cursor?: string): Promise<string> => {
      const r = await consumer.readIncremental({ dataset: 'feed', ...(cursor ? { cursor } : {}), selectFields: ['id'] });
      seen.push(...r.records.map((x) => x.id as number));
      return r.nextCursor;
    };
    try {
      await fast.batchWrite({ schema, records: batch(0, 100), basePath: 'feed' });
      tick(5_000);
      let cursor = await read();
      expect(seen).toHaveLength(100);

      // More arrives from both writers; the slow writer's entry is named 20 s in the past,
      // before the consumer's last read.
      tick(1_000);
      await slow.batchWrite({ schema, records: batch(100, 50), basePath: 'feed' });
      const streamed = fast.createWriter({ dataset: 'feed', schema });
      await streamed.write(batch(150, 70));
      await streamed.flush();
      tick(2_000);
      cursor = await read(cursor);
      await slow.write({ schema, records: batch(220, 30), partitionPath: 'feed/late' });
      tick(40_000); // past the settle window: everything so far is behind the watermark
      cursor = await read(cursor);
      cursor = await read(cursor);
      await fast.write({ schema, records: batch(250, 5), partitionPath: 'feed' });
      cursor = await read(cursor);

      expect(seen.length).toBe(255);
      expect(new Set(seen).size).toBe(255);
      expect(Math.min(...seen)).toBe(0);
      expect(Math.max(...seen)).toBe(254);
      await expect(consumer.readIncremental({ dataset: 'feed', cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await Promise.all([fast.close(), slow.close(), consumer.close()]);
    }
  });
});
