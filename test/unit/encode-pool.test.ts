/**
 * Encoding on worker threads (src/pipeline/encode-pool.ts) stores exactly what encoding on the
 * event loop stores: for the bench's realistic trace load, cut into several files, the pool's
 * Parquet bodies, row counts and trace indexes are byte-identical to the in-thread encoder's,
 * and an encoding failure comes back with its error code (the pipeline tells permanent from
 * retryable failures by code). The worker sends each flush's IPC buffer back, and the next
 * flush's stream is written into it (memory written before, not fresh pages).
 */
import type { RecordBatch } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { S3ParquetError } from '../../src/errors.js';
import { FOOTER_KEYS } from '../../src/parquet/contract.js';
import { decodeTraces } from '../../src/otlp/decode.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import type { EncodePlan } from '../../src/pipeline/encode-flush.js';
import { EncodePool, InThreadEncoder } from '../../src/pipeline/encode-pool.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { DATASETS } from '../../src/schema/datasets.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { traceRequests } from '../../bench/load/traces.js';
import { expectSameChunks } from '../helpers/parquet-bytes.js';

const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const promoted = ['http.request.method', 'http.response.status_code', 'url.path', 'server.address'].map(parsePromoted);

function batchesOf(requests: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (const body of traceRequests(7, requests, 256)) for (const g of convertTraces(decodeTraces('protobuf', body), partitioner, promoted).groups) out.push(g.batch);
  return out;
}

const layout = DATASETS.traces.storage;
const plan: EncodePlan = {
  head: [
    [FOOTER_KEYS.dataset, 'traces'],
    [FOOTER_KEYS.schemaVersion, '1'],
    [FOOTER_KEYS.minEventTime, '1'],
    [FOOTER_KEYS.maxEventTime, '2'],
  ],
  writer: 'encode-pool test',
  parquet: { compression: 'ZSTD', rowGroupSize: 100_000, pageSize: 65_536, dictionaryEnabled: true, statisticsEnabled: true, columnEncodings: layout.encodings },
  sortBy: layout.sortBy,
  maxRows: 1000,
  bloomColumn: 'trace_id',
  indexColumn: 'trace_id',
};

describe('encode pool', () => {
  const pool = new EncodePool(1);
  afterAll(() => pool.close());

  it('writes byte-identical files to the in-thread encoder', async () => {
    const batches = batchesOf(10); // 2,560 spans over 1,000-row files: three files
    const local = await new InThreadEncoder().encode(batches, plan);
    const remote = await pool.encode(batches, plan);
    expect(local.map((c) => c.rows)).toEqual([1000, 1000, 560]);
    expect(remote.map((c) => c.rows)).toEqual(local.map((c) => c.rows));
    for (let i = 0; i < local.length; i++) {
      expect(remote[i]!.index).toEqual(local[i]!.index);
      expect(local[i]!.index!.encoded.length).toBeGreaterThan(0);
      expect(Buffer.from(remote[i]!.body).equals(Buffer.from(local[i]!.body))).toBe(true);
    }
    // The batches are still readable here: only their serialised copy was moved to the worker.
    expect(batches[0]!.getChild('trace_id')!.get(0)).toMatch(/^[0-9a-f]{32}$/);
  }, 120_000);

  it('returns an encoding failure with its code', async () => {
    const batches = batchesOf(1);
    const bad = { ...plan, sortBy: ['no_such_column'] };
    const local = await new InThreadEncoder().encode(batches, bad).catch((e: unknown) => e);
    const remote = await pool.encode(batches, bad).catch((e: unknown) => e);
    expect(local).toBeInstanceOf(Error);
    expect(remote).toBeInstanceOf(S3ParquetError);
    expect((remote as S3ParquetError).code).toBe('PARQUET_WRITE_FAILED');
    expect((remote as Error).message).toContain('no_such_column');
  }, 120_000);

  it('writes the next flush into the IPC buffer the worker sent back, after a failure too', async () => {
    const own = new EncodePool(1);
    try {
      const big = batchesOf(40); // 10,240 spans: a ~7 MB stream
      const first = await own.encode(big, plan);
      const kept = own.spareBytes();
      expect(kept).toBeGreaterThan(4 << 20);
      // A smaller flush goes into the kept buffer: a new one would be sized to the smaller stream.
      const small = await own.encode(batchesOf(5), plan);
      expect(small.reduce((n, c) => n + c.rows, 0)).toBe(5 * 256);
      expect(own.spareBytes()).toBe(kept);
      const again = await own.encode(big, plan);
      expect(own.spareBytes()).toBe(kept);
      expectSameChunks(again, first);
      // A failed encode sends its buffer back as well.
      await expect(own.encode(batchesOf(1), { ...plan, sortBy: ['no_such_column'] })).rejects.toThrow(/no_such_column/);
      expect(own.spareBytes()).toBe(kept);
    } finally {
      await own.close();
    }
  }, 120_000);
});
