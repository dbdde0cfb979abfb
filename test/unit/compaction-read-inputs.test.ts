/**
 * Compaction merges files of older schema versions into the current schema by column name:
 * a column the old file lacks comes back null, every other value unchanged; a column the
 * current schema no longer has, or one whose type changed, is refused with the file's key.
 */
import { Field, Int64, RecordBatch, Schema, Struct, Table, TimestampNanosecond, Utf8, makeBuilder, makeData } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { MAP_TYPE } from '../../src/schema/columns.js';
import { readAsSchema } from '../../src/compaction/read-inputs.js';
import { encodeParquet, type ParquetWriterOptions } from '../../src/parquet/writer.js';
import { S3ParquetError } from '../../src/errors.js';
import { TRACES_DERIVED } from '../../src/schema/traces.js';

const WRITER: ParquetWriterOptions = {
  compression: 'ZSTD',
  rowGroupSize: 1000,
  pageSize: 64 * 1024,
  dictionaryEnabled: true,
  statisticsEnabled: true,
};

const NAME = new Field('name', new Utf8(), true);
const START = new Field('start_time', new TimestampNanosecond(), false);
const COUNT = new Field('count', new Int64(), true);
const ATTRS = new Field('attributes', MAP_TYPE, true); // the datasets' own map type

function file(fields: Field[], columns: Record<string, unknown[]>): Uint8Array {
  const schema = new Schema(fields);
  const n = Object.values(columns)[0]!.length;
  const children = fields.map((f) => {
    // Timestamps as raw nanoseconds (the builder would take milliseconds as numbers).
    if (f.type instanceof TimestampNanosecond) {
      return makeData({ type: f.type, length: n, nullCount: 0, data: BigInt64Array.from(columns[f.name] as bigint[]) });
    }
    const b = makeBuilder({ type: f.type, nullValues: [null] });
    for (const v of columns[f.name]!) b.append(v as never);
    return b.finish().flush();
  });
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
  return encodeParquet([batch], new Map(), WRITER);
}

function rows(batches: RecordBatch[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const row of new Table(batches)) {
    const o = row!.toJSON() as Record<string, unknown>;
    const attrs = o.attributes as { toJSON(): unknown } | null;
    out.push({ ...o, attributes: attrs === null ? null : attrs.toJSON() });
  }
  return out;
}

describe('compaction reads older schema versions by column name', () => {
  const current = new Schema([NAME, START, COUNT, ATTRS]);

  it('fills a column the old file lacks with nulls and keeps every other value', () => {
    const old = file([START, NAME], {
      start_time: [1_700_000_000_000_000_001n, 1_700_000_000_000_000_002n],
      name: ['a', null],
    });
    const batches = readAsSchema('traces/date=2024-01-01/hour=00/old.parquet', old, current);
    expect(batches[0]!.schema.fields.map((f) => f.name)).toEqual(['name', 'start_time', 'count', 'attributes']);
    const got = rows(batches);
    expect(got.map((r) => r.name)).toEqual(['a', null]);
    expect(got.map((r) => r.count)).toEqual([null, null]);
    expect(got.map((r) => r.attributes)).toEqual([null, null]);
    // Nanoseconds survive the round trip exactly (no float conversion on the way).
    const starts = batches[0]!.getChild('start_time')!;
    expect(starts.type).toBeInstanceOf(TimestampNanosecond);
    expect([...(starts.data[0]!.values as BigInt64Array)]).toEqual([1_700_000_000_000_000_001n, 1_700_000_000_000_000_002n]);
  });

  it('keeps maps and 64-bit integers of a file of the current schema unchanged', () => {
    const same = file([NAME, START, COUNT, ATTRS], {
      name: ['x'],
      start_time: [5n],
      count: [9_007_199_254_740_993n],
      attributes: [new Map([['http.method', 'GET'], ['k', null]])],
    });
    const got = rows(readAsSchema('k.parquet', same, current));
    expect(got).toHaveLength(1);
    expect(got[0]!.count).toBe(9_007_199_254_740_993n);
    expect(got[0]!.attributes).toEqual({ 'http.method': 'GET', k: null });
  });

  it('refuses a column the current schema dropped, naming the file and the column', () => {
    const extra = file([NAME, START, new Field('gone', new Utf8(), true)], { name: ['a'], start_time: [1n], gone: ['x'] });
    const err = (() => {
      try {
        readAsSchema('traces/p/extra.parquet', extra, current);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(S3ParquetError);
    expect((err as S3ParquetError).code).toBe('SCHEMA_INVALID');
    expect((err as Error).message).toContain('traces/p/extra.parquet');
    expect((err as Error).message).toContain('"gone"');
  });

  it('refuses a column whose type changed', () => {
    const retyped = file([new Field('count', new Utf8(), true), START], { count: ['7'], start_time: [1n] });
    expect(() => readAsSchema('traces/p/retyped.parquet', retyped, current)).toThrow(/retyped\.parquet.*"count"/);
  });

  it('names the file it cannot decode', () => {
    expect(() => readAsSchema('traces/p/broken.parquet', new Uint8Array([1, 2, 3, 4]), current)).toThrow(/broken\.parquet/);
  });

});

describe('compaction drops a column the current schema derives (traces end_time, version 3)', () => {
  const END = new Field('end_time', new TimestampNanosecond(), false);
  const DURATION = new Field('duration_ns', new Int64(), false);
  const current = new Schema([NAME, START, DURATION]);
  const start = [1_700_000_000_000_000_001n, 1_700_000_000_500_000_000n];
  const duration = [999n, -5n];

  it('drops end_time when it equals start_time + duration_ns in every row', () => {
    const v2 = file([NAME, START, END, DURATION], { name: ['a', 'b'], start_time: start, end_time: start.map((s, i) => s + duration[i]!), duration_ns: duration });
    const batches = readAsSchema('traces/p/v2.parquet', v2, current, TRACES_DERIVED);
    expect(batches[0]!.schema.fields.map((f) => f.name)).toEqual(['name', 'start_time', 'duration_ns']);
    expect([...(batches[0]!.getChild('duration_ns')!.data[0]!.values as BigInt64Array)]).toEqual(duration);
  });

  it('refuses a file whose end_time differs from the derivation, naming the file and row (nothing lost)', () => {
    const bad = file([NAME, START, END, DURATION], { name: ['a', 'b'], start_time: start, end_time: [start[0]! + 999n, start[1]!], duration_ns: duration });
    expect(() => readAsSchema('traces/p/odd.parquet', bad, current, TRACES_DERIVED)).toThrow(/odd\.parquet: its column "end_time" is 1700000000500000000 in row 1, not start_time \+ duration_ns = 1700000000499999995/);
    // Without the rule (a dataset that derives nothing) the column is a removed one.
    expect(() => readAsSchema('traces/p/odd.parquet', bad, current)).toThrow(/"end_time" is not in the current schema/);
  });
});
