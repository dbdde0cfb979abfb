/**
 * The library's schema layer alone: type aliases, value checks with their messages, Arrow
 * building of every type, schema inference, compatibility rules and partition strategies.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { normalizeRecords, buildBatch, inferSchema } from '../../src/library/records.js';
import { checkSchemaCompatibility, ParquetSchema } from '../../src/parquet/schema.js';
import { parquetTypeName, parseTypeAlias, ParquetType } from '../../src/parquet/types.js';
import { HashPartitioning, RangePartitioning, TimePartitioning, ValuePartitioning, stableBucket } from '../../src/partitioning/strategies.js';

describe('type aliases', () => {
  it('parses simple and nested aliases and renders them back canonically', () => {
    const cases: [string, string][] = [
      ['string', 'string'],
      ['BIGINT', 'int64'],
      ['timestamp', 'timestamp_us'],
      ['timestamp_ns', 'timestamp_ns'],
      ['decimal(10, 2)', 'decimal(10,2)'],
      ['list<map<string, double>>', 'list<map<string,double>>'],
      ['struct<a:int32, b:list<string>>', 'struct<a:int32,b:list<string>>'],
      ['map', 'map<string,string>'],
    ];
    for (const [alias, canonical] of cases) expect(parquetTypeName(parseTypeAlias(alias))).toBe(canonical);
  });

  it('refuses unknown types, bad decimals and non-string map keys with the position', () => {
    expect(() => parseTypeAlias('int128')).toThrow(/unknown type "int128"/);
    expect(() => parseTypeAlias('decimal(39,2)')).toThrow(/precision must be a whole number in 1\.\.38/);
    expect(() => parseTypeAlias('decimal(5,6)')).toThrow(/scale must be/);
    expect(() => parseTypeAlias('map<int64,string>')).toThrow(/map keys must be string/);
    expect(() => parseTypeAlias('list<string')).toThrow(/expected ">" at position 11/);
  });
});

describe('record values', () => {
  const schema = ParquetSchema.empty()
    .withField('ts', 'timestamp_ms', false)
    .withField('day', 'date')
    .withField('amount', 'decimal(8,2)')
    .withField('big', 'int64')
    .withField('tags', 'map<string,int32>')
    .withField('point', 'struct<x:double,y:double>');

  it('accepts each documented input form and keeps exact values', () => {
    const [row] = normalizeRecords(schema, [
      { ts: '2024-03-01T12:00:00.250+01:00', day: '2024-02-29', amount: '-1234.5', big: '9007199254740993', tags: new Map([['a', 1]]), point: { x: 1, y: 2.5 } },
    ]);
    expect(row).toEqual({ ts: 1709290800250, day: 19782, amount: -123450n, big: 9007199254740993n, tags: [['a', 1]], point: { x: 1, y: 2.5 } });
    const batch = buildBatch(schema, [row!]);
    expect(batch.numRows).toBe(1);
    expect(batch.getChild('big')!.get(0)).toBe(9007199254740993n);
  });

  it('writes 64-bit values from numbers and bigints exactly, negatives and extremes included', () => {
    const s64 = ParquetSchema.empty().withField('i', 'int64').withField('u', 'uint64').withField('t', 'timestamp_ns');
    const inputs = [
      { i: -1, u: 0, t: '1969-12-31T23:59:59.999999999Z' },
      { i: -4294967297, u: 4294967296, t: '2024-01-01T00:00:00.000Z' },
      { i: Number.MAX_SAFE_INTEGER, u: '18446744073709551615', t: 1704067200123.456 },
      { i: -(2n ** 63n), u: 2n ** 63n, t: 1n },
    ];
    const batch = buildBatch(s64, normalizeRecords(s64, inputs));
    const column = (name: string): unknown[] => Array.from({ length: batch.numRows }, (_, r) => batch.getChild(name)!.get(r));
    expect(column('i')).toEqual([-1n, -4294967297n, BigInt(Number.MAX_SAFE_INTEGER), -(2n ** 63n)]);
    expect(column('u')).toEqual([0n, 4294967296n, 2n ** 64n - 1n, 2n ** 63n]);
    expect(batch.getChild('t')!.data[0]!.values).toEqual(new BigInt64Array([-1n, 1704067200000000000n, 1704067200123456000n, 1n]));
  });

  it('names the record, the nested field and why, and never rounds', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ ts: 'yesterday' }, 'record 0: field "ts" expected timestamp_ms'],
      [{ ts: '2024-01-01T00:00:00.0001Z' }, 'record 0: field "ts" the string "2024-01-01T00:00:00.0001Z" has more precision than timestamp_ms keeps'],
      [{ ts: 0, day: '2024-01-01T10:00:00Z' }, 'record 0: field "day" the string "2024-01-01T10:00:00Z" is not midnight UTC'],
      [{ ts: 0, amount: '1.005' }, 'record 0: field "amount" 1.005 has more than 2 fraction digits'],
      [{ ts: 0, amount: '1234567.1' }, 'record 0: field "amount" 1234567.1 needs more than 8 digits'],
      [{ ts: 0, big: 2 ** 60 }, 'record 0: field "big" 1152921504606847000 is beyond 2^53'],
      [{ ts: 0, tags: { a: 'x' } }, 'record 0: field "tags["a"]" expected int32, got the string "x"'],
      [{ ts: 0, point: { x: 1, z: 2 } }, 'record 0: field "point.z" is not in the schema'],
    ];
    for (const [record, message] of bad) expect(() => normalizeRecords(schema, [record]), message).toThrow(message);
  });
});

describe('schema inference', () => {
  it('infers types, widens int to double, and keeps lists seen empty', () => {
    const schema = inferSchema([
      { a: 1, t: '2024-01-01T00:00:00Z', l: [], o: { x: 1 }, n: null },
      { a: 2.5, t: 'not a time', l: ['x'], o: { y: true } },
    ]);
    expect(schema.toJSON()).toEqual([
      { name: 'a', type: 'double', nullable: true },
      { name: 't', type: 'string', nullable: true },
      { name: 'l', type: 'list<string>', nullable: true },
      { name: 'o', type: 'struct<x:int64,y:boolean>', nullable: true },
      { name: 'n', type: 'string', nullable: true },
    ]);
    expect(() => inferSchema([{ a: [1] }, { a: ['x'] }])).toThrow('record 1: field "a": conflicting types int64 and string');
  });
});

describe('compatibility', () => {
  const base = ParquetSchema.of([
    { name: 'n', type: 'int32', nullable: false },
    { name: 'u', type: 'uint16' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'decimal(10,2)' },
    { name: 'l', type: 'list<int32>' },
    { name: 's', type: 'struct<a:int32>' },
  ]);

  it('allows widenings, inside nested types too', () => {
    const next = base
      .withField('n', 'int64', false)
      .withField('u', 'int32')
      .withField('f', 'double')
      .withField('d', 'decimal(12,3)')
      .withField('l', 'list<int64>')
      .withField('s', 'struct<a:int64,b:string>');
    expect(checkSchemaCompatibility(base, next)).toEqual([]);
  });

  it('reports each narrowing or change with its path', () => {
    const next = base.withField('u', 'int16').withField('d', 'decimal(10,1)').withField('l', 'list<string>').withField('s', 'struct<a:int16>');
    expect(checkSchemaCompatibility(base, next)).toEqual([
      'field "u": changing type uint16 to int16 is not a widening',
      'field "d": changing type decimal(10,2) to decimal(10,1) is not a widening',
      'field "l[]": changing type int32 to string is not a widening',
      'field "s.a": narrowing int32 to int16 would not hold every value written before',
    ]);
  });
});

describe('partition strategies', () => {
  it('time: floors to the granularity and formats in UTC from any timestamp form', () => {
    const p = TimePartitioning.create().withField('t').withGranularity('day').withFormat('%Y/%m/%d');
    expect(p.pathFor({ t: '2024-02-29T23:59:59.999+00:00' })).toBe('2024/02/29');
    expect(p.pathFor({ t: '2024-03-01T00:30:00+01:00' })).toBe('2024/02/29');
    expect(p.pathFor({ t: Date.UTC(2024, 0, 2, 5) })).toBe('2024/01/02');
    expect(() => p.pathFor({ t: 'soon' })).toThrow(/not a timestamp/);
    expect(() => p.pathFor({ t: '2024-02-30T00:00:00Z' })).toThrow(/not a timestamp/); // Date.parse would roll it over to March 1
    expect(() => TimePartitioning.create().withFormat('../x')).toThrow(/relative path/);
  });

  it('hash: the documented md5 bucket, null to the Hive default partition', () => {
    const p = HashPartitioning.create().withField('user').withNumPartitions(10);
    // The first four bytes of md5("user-42"), big-endian, modulo 10.
    const expected = Number(BigInt('0x' + createHash('md5').update('user-42').digest('hex').slice(0, 8)) % 10n);
    expect(p.pathFor({ user: 'user-42' })).toBe(`user_bucket=${expected}`);
    expect(stableBucket(42, 7)).toBe(stableBucket('42', 7));
    expect(p.pathFor({ user: null })).toBe('user_bucket=__HIVE_DEFAULT_PARTITION__');
    expect(() => HashPartitioning.create().withNumPartitions(0)).toThrow(/1\.\.65536/);
  });

  it('range: [from, to), default label outside, overlaps refused; value levels are escaped', () => {
    const p = RangePartitioning.create().withField('code').withRanges([[200, 300, 'ok'], { from: 500, to: 600, label: 'error' }]);
    expect([200, 299.5, 300, 599, 600, null, 'x'].map((code) => p.pathFor({ code }))).toEqual([
      'code_range=ok', 'code_range=ok', 'code_range=other', 'code_range=error', 'code_range=other', 'code_range=other', 'code_range=other',
    ]);
    expect(() => RangePartitioning.create().withRanges([[0, 10, 'a'], [5, 20, 'b']])).toThrow(/"a" and "b" overlap/);
    expect(new ValuePartitioning('svc').pathFor({ svc: '../etc/passwd' })).toBe('svc=..%2Fetc%2Fpasswd');
  });
});
