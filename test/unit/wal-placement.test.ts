/**
 * Issue 20, a restart with a long backlog: each write-ahead-log data entry records where its
 * records went (partitions, rows, Arrow bytes, times, under a fingerprint of the partitioning),
 * so a replay buffers entries beyond the spill budget as references without building their
 * rows. Logs written before (DATA entries without a placement) and logs replayed under another
 * partitioning are still replayed, by converting each entry. A real log, real Parquet files
 * in a local store, DuckDB counts them.
 */
import { crc32 } from 'node:zlib';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createFlushEncoder } from '../../src/pipeline/encode-pool.js';
import { prepareRequest } from '../../src/otlp/decode.js';
import { FileWriter } from '../../src/pipeline/file-writer.js';
import { fileWriterSettings } from '../../src/pipeline/file-writer-settings.js';
import { Partitioner, type Granularity } from '../../src/pipeline/partitioner.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { promotedSpecs } from '../../src/schema/datasets.js';
import { LocalStore } from '../../src/store/local.js';
import { decodeEntry, encodeEntry } from '../../src/wal/format.js';
import { WriteAheadLog } from '../../src/wal/log.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { T0_NS, hexId } from '../helpers/otlp.js';

const HOUR_NS = 3_600_000_000_000n;
const SPANS = 200;
const REQUESTS = 24;
/** A small limit: the spill budget (half of it) holds only a few of the requests. */
const LIMIT = 1024 * 1024;

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Request `n`: 200 spans with a 1 KiB attribute, half in the first hour of 2024, half in the next. */
function request(n: number): Uint8Array {
  const spans = Array.from({ length: SPANS }, (_, i) => ({
    traceId: hexId(16, n * 1000 + i + 1),
    spanId: hexId(8, i + 1),
    name: `req-${n}`,
    kind: 2,
    startTimeUnixNano: (T0_NS + (i % 2 === 0 ? 0n : HOUR_NS) + BigInt(i)).toString(),
    endTimeUnixNano: (T0_NS + (i % 2 === 0 ? 0n : HOUR_NS) + BigInt(i) + 1n).toString(),
    attributes: [{ key: 'payload', value: { stringValue: 'p'.repeat(1024) } }],
  }));
  return Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
}

function openWal() {
  return WriteAheadLog.open({ dir: join(dir, 'wal'), fsync: 'never', fsyncIntervalMs: 100, maxBytes: 1 << 30, segmentBytes: 4 << 20, logger: createLogger('silent') });
}

function pipelineOver(wal: WriteAheadLog, store: LocalStore, granularity: Granularity = 'hour'): Pipeline {
  const config = defaultConfig();
  return new Pipeline({
    wal,
    memoryLimitBytes: LIMIT,
    partitioner: new Partitioner({ granularity, format: granularity === 'hour' ? 'date=%Y-%m-%d/hour=%H' : 'date=%Y-%m-%d', byService: false }),
    limits: { maxRows: 100_000, maxBytes: 64 << 20, maxAgeMs: 3_600_000 },
    promoted: promotedSpecs(config),
    writer: new FileWriter({ store, instanceId: 'test', ...fileWriterSettings(config), encoder: createFlushEncoder(0) }),
    logger: createLogger('silent'),
  });
}

/** Accepts every request (appended to the log, buffered), then "crashes": nothing flushed, the log left as is. */
async function acceptThenCrash(): Promise<void> {
  const { wal } = await openWal();
  const store = new LocalStore(join(dir, 'lake-before'));
  const pipeline = pipelineOver(wal, store);
  for (let n = 0; n < REQUESTS; n++) {
    const body = request(n);
    const result = await pipeline.export('traces', prepareRequest('traces', 'json', body), { format: 'json', body });
    expect(result.accepted).toBe(SPANS);
  }
  await wal.abandon();
}

async function storedRows(lake: string): Promise<{ n: number; ids: number; partitions: number }> {
  const rows = await duckdbQuery(`SELECT count(*)::INT AS n, count(DISTINCT trace_id)::INT AS ids, count(DISTINCT filename.split('/')[-2])::INT AS partitions FROM read_parquet('${lake}/traces/**/*.parquet', filename = true)`);
  return rows[0] as { n: number; ids: number; partitions: number };
}

describe('a restart with a backlog in the write-ahead log', () => {
  it('buffers what exceeds the spill budget as references, builds rows only when flushing, stores every span once', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-placement-'));
    await acceptThenCrash();
    const { wal, recovered } = await openWal();
    // Every entry says where its records went: two hourly partitions of 100 spans each.
    expect(recovered.data).toHaveLength(REQUESTS);
    for (const d of recovered.data) {
      expect(d.placement?.groups.map((g) => [g.partition, g.rows])).toEqual([
        ['date=2024-01-01/hour=00', SPANS / 2],
        ['date=2024-01-01/hour=01', SPANS / 2],
      ]);
    }
    const lake = join(dir, 'lake');
    const pipeline = pipelineOver(wal, new LocalStore(lake));
    // Counts the entries the replay reads back (to build their rows); it still reads them.
    const reads = vi.spyOn(wal, 'readData');
    const replayed = await pipeline.replay(recovered, new LocalStore(lake));
    expect(replayed).toEqual({ requests: REQUESTS, records: REQUESTS * SPANS, deadLetters: 0 });
    // Rows were built only while they fit under the budget (three quarters of half the limit):
    // a request holds ~220 KiB of Arrow, so one or two are read; the rest are references.
    expect(reads.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(reads.mock.calls.length).toBeLessThanOrEqual(2);
    reads.mockRestore();
    expect(pipeline.bufferedBytes).toBeLessThanOrEqual(LIMIT * 0.5 * 0.75);
    expect(pipeline.spilledRows).toBeGreaterThan(REQUESTS * SPANS * 0.75);
    expect(pipeline.bufferedRows).toBe(REQUESTS * SPANS);
    await pipeline.close();
    await wal.close();
    expect(await storedRows(lake)).toEqual({ n: REQUESTS * SPANS, ids: REQUESTS * SPANS, partitions: 2 });
  });

  it('replays a log written before placements were recorded (DATA entries), by converting each entry', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-placement-'));
    // The old layout, byte for byte: type 1 | u64 seq | i64 received ns | u8 signal | u8 format | request.
    const { wal: fresh } = await openWal();
    await fresh.abandon();
    const frames: Buffer[] = [];
    for (let n = 0; n < REQUESTS; n++) {
      const body = Buffer.concat([Buffer.from([1]), Buffer.alloc(8), Buffer.alloc(8), Buffer.from([0, 1]), request(n)]);
      body.writeBigUInt64LE(BigInt(n + 1), 1);
      body.writeBigInt64LE(T0_NS, 9);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(body.length, 0);
      head.writeUInt32LE(crc32(body), 4);
      frames.push(head, body);
    }
    await appendFile(join(dir, 'wal', '000000000001.wal'), Buffer.concat(frames));
    const { wal, recovered } = await openWal();
    expect(recovered.problems).toEqual([]);
    expect(recovered.data.map((d) => d.placement)).toEqual(Array(REQUESTS).fill(undefined));
    const lake = join(dir, 'lake');
    const pipeline = pipelineOver(wal, new LocalStore(lake));
    expect(await pipeline.replay(recovered, new LocalStore(lake))).toEqual({ requests: REQUESTS, records: REQUESTS * SPANS, deadLetters: 0 });
    await pipeline.close();
    await wal.close();
    expect(await storedRows(lake)).toEqual({ n: REQUESTS * SPANS, ids: REQUESTS * SPANS, partitions: 2 });
  });

  it('converts instead of trusting the recorded partitions when the partitioning changed under the restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-wal-placement-'));
    await acceptThenCrash();
    const { wal, recovered } = await openWal();
    const lake = join(dir, 'lake');
    // Daily partitions now: the hourly groups the log recorded no longer exist.
    const pipeline = pipelineOver(wal, new LocalStore(lake), 'day');
    expect(await pipeline.replay(recovered, new LocalStore(lake))).toEqual({ requests: REQUESTS, records: REQUESTS * SPANS, deadLetters: 0 });
    await pipeline.close();
    await wal.close();
    expect(await storedRows(lake)).toEqual({ n: REQUESTS * SPANS, ids: REQUESTS * SPANS, partitions: 1 });
    expect(await readdir(join(lake, 'traces'))).toEqual(['date=2024-01-01']);
  });

  it('round-trips a placement in the entry, and a dead letter keeps the plain DATA layout', () => {
    const entry = {
      type: 'data', seq: 7, receivedNs: T0_NS, signal: 'logs', format: 'protobuf', body: Buffer.from('request'),
      placement: { placing: 'abc', groups: [{ partition: 'date=2024-01-01/hour=00', rows: 3, bytes: 120, minTime: T0_NS, maxTime: T0_NS + 5n }] },
    } as const;
    const framed = encodeEntry(entry);
    expect(framed[8]).toBe(4);
    const back = decodeEntry(framed, 0);
    expect(back && 'entry' in back ? { ...back.entry, body: Buffer.from(back.entry.type === 'data' ? back.entry.body : []) } : back).toEqual({ ...entry, body: Buffer.from('request') });
    const plain = encodeEntry({ ...entry, placement: undefined });
    expect(plain[8]).toBe(1);
    expect(plain.subarray(8 + 19).toString()).toBe('request');
  });
});
